package api

import (
	"encoding/json"
	"fmt"
	"github.com/confide-org/confide/internal/guided"
	"net/http"
	"slices"
	"strings"

	"github.com/confide-org/confide/internal/search"
	"github.com/confide-org/confide/internal/taxonomy"
)

// obj is a JSON object of the OpenAPI document; encoding/json writes its
// keys in order, so the document is the same bytes on every replica and
// its ETag is stable.
type obj = map[string]any

// OpenAPI builds the OpenAPI 3.1 description of /api/v1 from the same
// sources the handlers use: the taxonomy gives the enums of the
// vocabulary parameters and the search package the limits, so the
// document cannot drift from what the parser accepts.
func OpenAPI(tax *taxonomy.Taxonomy, version string) ([]byte, error) {
	slugs := func(kind taxonomy.Kind) []string {
		var out []string
		for _, t := range tax.Terms(kind) {
			out = append(out, t.Slug)
		}
		return out
	}
	var languages []string
	for _, l := range tax.Languages {
		languages = append(languages, l.Code)
	}
	// An empty value counts as absent (an HTML form sends "near=" for a
	// blank box), so every enum and pattern also allows "".
	list := func(name, desc string, enum []string) obj {
		items := obj{"type": "string"}
		if enum != nil {
			items["enum"] = append([]string{""}, enum...)
		}
		return obj{"name": name, "in": "query", "description": desc, "style": "form", "explode": true,
			"schema": obj{"type": "array", "items": items, "maxItems": 50}}
	}
	str := func(name, desc string, schema obj) obj {
		return obj{"name": name, "in": "query", "description": desc, "schema": schema}
	}
	boolean := func(name, desc string) obj {
		return str(name, desc+" Also accepts 1/0, yes/no, on/off.", obj{"type": "string", "enum": []string{"", "true", "false", "1", "0", "yes", "no", "on", "off"}})
	}
	ref := func(name string) obj { return obj{"$ref": "#/components/schemas/" + name} }
	jsonBody := func(desc string, schema obj) obj {
		return obj{"description": desc, "content": obj{"application/json": obj{"schema": schema}}}
	}
	errorResponse := func(desc string) obj { return jsonBody(desc, ref("Error")) }
	nullable := func(t string) obj { return obj{"type": []string{t, "null"}} }
	stringList := obj{"type": "array", "items": obj{"type": "string"}}
	date := obj{"type": "string", "description": "A calendar date (YYYY-MM-DD), or empty when unknown.", "pattern": `^(\d{4}-\d{2}-\d{2})?$`}
	notModified := obj{"description": "The answer has not changed since the ETag sent in If-None-Match."}
	etag := obj{"ETag": obj{"description": "A strong validator of the body; send it back in If-None-Match.", "schema": obj{"type": "string"}}}
	ok := func(desc string, schema obj) obj {
		r := jsonBody(desc, schema)
		r["headers"] = etag
		return r
	}
	standard := func(responses obj) obj {
		responses["500"] = errorResponse("Something went wrong on the server; the body carries a request id to quote.")
		responses["503"] = errorResponse("The database is not answering (retry after the Retry-After header's seconds), or, for the guided suggestions, the rule set may not be used (rules_unavailable, saying why).")
		return responses
	}

	// The facet parameters, and the therapist's facet fields with their
	// enums, come from the search package's facet table.
	var facetParams []obj
	var facetFields []string
	therapistFacets := obj{}
	for _, f := range search.Facets() {
		facetFields = append(facetFields, f.JSON)
		facetParams = append(facetParams, list(f.Name, f.APIDescription(), f.Enum(tax)))
		switch {
		case !f.Multi:
			therapistFacets[f.JSON] = nullable("string")
		case f.Source == search.FromTaxonomy || f.Source == search.FromChoices:
			therapistFacets[f.JSON] = obj{"type": "array", "items": obj{"type": "string", "enum": f.Enum(tax)}}
		default:
			therapistFacets[f.JSON] = stringList
		}
	}

	termSchema := obj{"type": "object", "required": []string{"slug", "label", "description"}, "properties": obj{
		"slug": obj{"type": "string"}, "label": obj{"type": "string"}, "description": obj{"type": "string"},
		"synonyms": stringList, "codes": obj{"type": "array", "items": ref("Code")},
	}}
	doc := obj{
		"openapi": "3.1.0",
		"info": obj{
			"title":       "Confide directory API",
			"version":     version,
			"description": "Public search of verified counsellors and psychotherapists, and the guided path's suggestions. Every answer is JSON; errors share one shape. No endpoint ever returns a contact email address or a full postcode. GET answers may be read from any origin (CORS, no credentials), and every 200 to a GET carries an ETag for conditional GET.",
			"license":     obj{"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"},
		},
		"servers": []obj{{"url": "/"}},
		"paths": obj{
			"/api/v1/therapists": obj{"get": obj{
				"operationId": "searchTherapists",
				"summary":     "Search verified therapists",
				"description": "The same parameters and rules as the search page. Empty values count as absent; a parameter this endpoint does not take is refused (400) with the closest it does, so a misspelt filter never returns an unfiltered answer.",
				"parameters": slices.Concat([]obj{
					str("near", "A UK town, place or postcode (district or full) to search around.", obj{"type": "string", "maxLength": 100}),
					str("lat", "Latitude of the point to search around, with lon (instead of near).", obj{"type": "string", "pattern": `^(-?[0-9]{1,6}(\.[0-9]{1,8})?)?$`}),
					str("lon", "Longitude of the point to search around, with lat.", obj{"type": "string", "pattern": `^(-?[0-9]{1,6}(\.[0-9]{1,8})?)?$`}),
					str("radius_km", fmt.Sprintf("How far from the place to look, in km (%g to %g; default %g).", search.MinRadiusKm, search.MaxRadiusKm, search.DefaultRadiusKm),
						obj{"type": "string", "pattern": `^([0-9]{1,6}(\.[0-9]{1,8})?)?$`}),
				}, facetParams, []obj{
					str("max_fee", fmt.Sprintf("Highest fee per session in pounds (up to %d).", search.MaxFeeGBP), obj{"type": "string", "pattern": `^(£?[0-9]{1,5}(\.[0-9]{1,2})?)?$`}),
					boolean("concessions", "Only therapists who offer concessionary fees."),
					boolean("accepting", "Only therapists who have recently confirmed they are taking new clients."),
					boolean("wheelchair", "Only practices with wheelchair access."),
					str("q", "Search words, matched against names, headlines, statements and the vocabulary (with synonyms and typos).", obj{"type": "string", "maxLength": search.MaxTextLen}),
					str("sort", "Order of results; the default is recommended (match, relevance, distance and fresh availability) with q or a place, else a daily rotation. Every order breaks ties by the day's rotation.",
						obj{"type": "string", "enum": []string{"", search.SortRecommended, search.SortDistance, search.SortRelevance, search.SortFee}}),
					str("page", "Page of results, from 1.", obj{"type": "string", "pattern": `^([0-9]{1,9})?$`}),
					str("per_page", fmt.Sprintf("Results per page (1 to %d, default %d).", search.MaxPerPage, search.DefaultPerPage), obj{"type": "string", "pattern": `^([0-9]{1,9})?$`}),
				}),
				"responses": standard(obj{
					"200": ok("One page of results, with counts for every filter.", ref("SearchResult")),
					"304": notModified,
					"400": errorResponse("A parameter is invalid: the error names it and may suggest values."),
				}),
			}},
			"/api/v1/therapists/{slug}": obj{"get": obj{
				"operationId": "getTherapist",
				"summary":     "One public profile",
				"parameters": []obj{
					{"name": "slug", "in": "path", "required": true, "schema": obj{"type": "string"}},
					str("near", "A place; the answer then gives the distance to the nearest practice.", obj{"type": "string", "maxLength": 100}),
				},
				"responses": standard(obj{
					"200": ok("The profile.", ref("Profile")),
					"304": notModified,
					"404": errorResponse("No public profile has this address."),
				}),
			}},
			"/api/v1/taxonomy": obj{"get": obj{
				"operationId": "getTaxonomy",
				"summary":     "The vocabulary: approaches, issues, client groups, formats, professional bodies and languages",
				"responses":   standard(obj{"200": ok("The taxonomy.", ref("Taxonomy")), "304": notModified}),
			}},
			"/api/v1/places": obj{"get": obj{
				"operationId": "completePlace",
				"summary":     "Complete a place name or postcode as it is typed",
				"parameters": []obj{
					{"name": "q", "in": "query", "required": true, "description": "The start of a town or postcode.", "schema": obj{"type": "string", "maxLength": 100}},
					str("limit", "How many suggestions (1 to 10, default 10).", obj{"type": "string", "pattern": `^[0-9]+$`}),
				},
				"responses": standard(obj{
					"200": ok("Suggestions, most built-up first.", obj{"type": "object", "required": []string{"results"},
						"properties": obj{"results": obj{"type": "array", "items": ref("PlaceSuggestion")}}}),
					"304": notModified,
					"400": errorResponse("q is missing or too long, or limit is out of range."),
				}),
			}},
			"/api/v1/guided": obj{"post": obj{
				"operationId": "suggestApproaches",
				"summary":     "Suggest kinds of therapy from the guided path's answers",
				"description": "Takes the answers of the guided path (/find/guided) and returns the same two to four suggestions as its result page: why each fits, what the evidence says and where, the article, and a search with its count. Every answer may be left out. The rule set is reviewed content; while it is unreviewed or overdue for review the endpoint answers 503 (rules_unavailable) saying why. The answers are health data: they are not stored or logged, and the answer is never cached (Cache-Control: no-store). When risk is true, show the crisis lines before anything else: no therapist is an emergency service. Call it from your server or from this site's own pages; cross-origin browser calls are not offered.",
				"requestBody": obj{"required": true, "content": obj{"application/json": obj{"schema": ref("GuidedAnswers")}}},
				"responses": standard(obj{
					"200": jsonBody("The suggestions, most fitting first.", ref("GuidedSuggestions")),
					"400": errorResponse("The body is not JSON, has a field this endpoint does not take, or an answer that is not one of its question's options: the error names the field and lists the values it takes."),
				}),
			}},
			"/healthz": obj{"get": obj{
				"operationId": "health",
				"summary":     "Whether this replica and its database answer",
				"responses": obj{
					"200": ok("Healthy.", ref("Health")),
					"304": notModified,
					"503": jsonBody("The database does not answer.", ref("Health")),
				},
			}},
			"/api/openapi.json": obj{"get": obj{
				"operationId": "openapi",
				"summary":     "This document",
				"responses":   obj{"200": ok("The OpenAPI 3.1 description.", obj{"type": "object"}), "304": notModified},
			}},
		},
		"components": obj{"schemas": obj{
			"Error": obj{"type": "object", "required": []string{"error"}, "properties": obj{"error": obj{
				"type": "object", "required": []string{"code", "message"},
				"properties": obj{
					"code":        obj{"type": "string", "enum": []string{"not_found", "conflict", "invalid_parameter", "invalid_request", "forbidden", "rate_limited", "unavailable", "rules_unavailable", "internal_error"}},
					"param":       obj{"type": "string", "description": "The parameter at fault (invalid_parameter only)."},
					"message":     obj{"type": "string"},
					"suggestions": stringList,
					"request_id":  obj{"type": "string", "description": "Quote it when reporting a 500."},
				},
			}}},
			"Code": obj{"type": "object", "required": []string{"system", "code", "display"}, "properties": obj{
				"system": obj{"type": "string"}, "code": obj{"type": "string"}, "display": obj{"type": "string"}}},
			"Term": termSchema,
			"Taxonomy": obj{"type": "object", "required": []string{"version", "approaches", "issues", "client_groups", "formats", "professional_bodies", "languages"},
				"properties": obj{
					"version": obj{"type": "string"}, "approaches": obj{"type": "array", "items": ref("Term")}, "issues": obj{"type": "array", "items": ref("Term")},
					"client_groups": obj{"type": "array", "items": ref("Term")}, "formats": obj{"type": "array", "items": ref("Term")},
					"professional_bodies": obj{"type": "array", "items": obj{"type": "object", "required": []string{"slug", "abbreviation", "name", "url", "register_url"},
						"properties": obj{"slug": obj{"type": "string"}, "abbreviation": obj{"type": "string"}, "name": obj{"type": "string"}, "url": obj{"type": "string"}, "register_url": obj{"type": "string"}}}},
					"languages": obj{"type": "array", "items": obj{"type": "object", "required": []string{"code", "name"},
						"properties": obj{"code": obj{"type": "string"}, "name": obj{"type": "string"}}}},
				}},
			"Location": obj{"type": "object", "required": []string{"district", "area", "lat", "lon", "wheelchair", "evenings", "weekends"},
				"description": "A practice, to the postcode district only.",
				"properties": obj{"district": obj{"type": "string"}, "area": obj{"type": "string"}, "lat": obj{"type": "number"}, "lon": obj{"type": "number"},
					"wheelchair": obj{"type": "boolean"},
					"evenings":   obj{"type": "boolean", "deprecated": true, "description": "Deprecated: the therapist sees clients on weekday evenings (session_times has evenings), the same on every practice."},
					"weekends":   obj{"type": "boolean", "deprecated": true, "description": "Deprecated: the therapist sees clients at weekends (session_times has saturdays or sundays), the same on every practice."}}},
			"Verification": obj{"type": "object", "required": []string{"status", "body", "body_name", "membership_number", "level", "verified_at", "next_check_due"},
				"properties": obj{"status": obj{"type": "string"}, "body": obj{"type": "string"}, "body_name": obj{"type": "string"},
					"membership_number": obj{"type": "string"}, "level": obj{"type": "string"}, "verified_at": date, "next_check_due": date}},
			"Therapist": obj{"type": "object",
				"required": slices.Concat([]string{"id", "slug", "url", "name", "headline", "distance_km"}, facetFields,
					[]string{"fee_min_gbp", "fee_max_gbp", "concessions", "availability", "availability_confirmed_at", "accepting_new_clients", "locations", "verification"}),
				"properties": with(therapistFacets, obj{
					"id": obj{"type": "integer"}, "slug": obj{"type": "string"}, "url": obj{"type": "string"}, "name": obj{"type": "string"}, "headline": obj{"type": "string"},
					"distance_km": nullable("number"),
					"fee_min_gbp": obj{"type": "number"}, "fee_max_gbp": obj{"type": "number"}, "concessions": obj{"type": "boolean"},
					"availability": obj{"type": "string"}, "availability_confirmed_at": obj{"type": []string{"string", "null"}, "format": "date-time"},
					"accepting_new_clients": obj{"type": "boolean"},
					"locations":             obj{"type": "array", "items": ref("Location")},
					"verification":          ref("Verification"),
					"score":                 obj{"type": "number", "description": "Relevance, with q only."},
					"recommended_score":     obj{"type": "number", "minimum": 0, "maximum": 8, "description": "3·match + 2·text + 2·near + 1·fresh, when sorted by recommendation."},
				})},
			"Membership": obj{"type": "object", "required": []string{"body", "body_name", "membership_number", "level"},
				"properties": obj{"body": obj{"type": "string"}, "body_name": obj{"type": "string"}, "membership_number": obj{"type": "string"}, "level": obj{"type": "string"}}},
			"Profile": obj{"allOf": []obj{ref("Therapist"), {"type": "object", "required": []string{"statement_markdown", "statement_html", "memberships", "contact"},
				"properties": obj{"statement_markdown": obj{"type": "string"}, "statement_html": obj{"type": "string"},
					"memberships": obj{"type": []string{"array", "null"}, "items": ref("Membership")},
					"contact":     ref("Contact")}}}},
			"Contact": obj{"type": "object", "required": []string{"website", "phone", "email"},
				"description": "Contact details the therapist chose to publish, as the profile page shows them; null when not given.",
				"properties": obj{"website": obj{"type": []string{"string", "null"}, "format": "uri"}, "phone": nullable("string"),
					"email": obj{"type": []string{"string", "null"}, "format": "email"}}},
			"Facet": obj{"type": "object", "required": []string{"value", "label", "count"},
				"properties": obj{"value": obj{"type": "string"}, "label": obj{"type": "string"}, "count": obj{"type": "integer", "minimum": 0}}},
			"Place": obj{"type": "object", "required": []string{"kind", "label", "lat", "lon"},
				"properties": obj{"kind": obj{"type": "string"}, "label": obj{"type": "string"}, "lat": obj{"type": "number"}, "lon": obj{"type": "number"},
					"district": obj{"type": "string"}, "alternatives": stringList,
					"corrected": obj{"type": "boolean", "description": "near was taken as a slip for label (\"Leds\" for Leeds)."}}},
			"PlaceSuggestion": obj{"type": "object", "required": []string{"value", "label", "kind", "lat", "lon"},
				"properties": obj{"value": obj{"type": "string"}, "label": obj{"type": "string"}, "kind": obj{"type": "string"}, "lat": obj{"type": "number"}, "lon": obj{"type": "number"}}},
			"SearchResult": obj{"type": "object", "required": []string{"total", "page", "per_page", "sort", "radius_km", "location", "results", "facets"},
				"properties": obj{
					"total": obj{"type": "integer", "minimum": 0}, "page": obj{"type": "integer", "minimum": 1}, "per_page": obj{"type": "integer", "minimum": 1},
					"sort":      obj{"type": "string", "enum": []string{search.SortRecommended, search.SortDistance, search.SortRelevance, search.SortFee, search.SortRotation}},
					"radius_km": nullable("number"), "location": obj{"oneOf": []obj{ref("Place"), {"type": "null"}}},
					"results": obj{"type": "array", "items": ref("Therapist")},
					"facets":  obj{"type": "object", "additionalProperties": obj{"type": "array", "items": ref("Facet")}},
					"corrections": obj{"type": "array", "description": "Words of q the index did not know, searched for as the vocabulary word they are a slip of.",
						"items": obj{"type": "object", "required": []string{"from", "to"}, "properties": obj{"from": obj{"type": "string"}, "to": obj{"type": "string"}}}},
				}},
			"GuidedAnswers": obj{"type": "object", "additionalProperties": false,
				"description": "The guided path's answers; leave out (or send empty) any question skipped.",
				"properties": obj{
					"safety":      obj{"type": "string", "enum": append([]string{""}, choiceValues(guided.StepSafety)...), "description": "Are you in danger, or thinking about harming yourself?"},
					"issues":      obj{"type": "array", "items": obj{"type": "string", "enum": choiceValues(guided.StepIssues)}, "maxItems": 20, "description": "What would you like help with? (issue slugs of the taxonomy)"},
					"issue_other": obj{"type": "boolean", "description": "Something else, not listed."},
					"who":         obj{"type": "string", "enum": append([]string{""}, choiceValues(guided.StepWho)...), "description": "Who is the therapy for?"},
					"wants":       obj{"type": "array", "items": obj{"type": "string", "enum": choiceValues(guided.StepWant)}, "maxItems": 20, "description": "What would you like from therapy?"},
					"length":      obj{"type": "string", "enum": append([]string{""}, choiceValues(guided.StepLength)...), "description": "Short-term or open-ended?"},
					"formats":     obj{"type": "array", "items": obj{"type": "string", "enum": choiceValues(guided.StepFormat)}, "maxItems": 20, "description": "How would you like to meet?"},
					"near":        obj{"type": "string", "maxLength": 100, "description": "A UK town, place or postcode, for meeting in person."},
					"max_fee_gbp": obj{"type": []string{"integer", "null"}, "minimum": 0, "maximum": 99999, "description": "The most you can pay per session, in whole pounds."},
					"concessions": obj{"type": "boolean", "description": "Only therapists who offer lower fees."},
					"language":    obj{"type": "string", "enum": append([]string{""}, languages...), "description": "Language of therapy (ISO 639-1)."},
				}},
			"GuidedSearch": obj{"type": "object", "required": []string{"search_url", "api_url", "count"},
				"properties": obj{"search_url": obj{"type": "string", "description": "The search page, pre-filled."}, "api_url": obj{"type": "string", "description": "The same search through GET /api/v1/therapists."},
					"count": obj{"type": "integer", "minimum": 0, "description": "How many therapists it finds now."}}},
			"GuidedSuggestions": obj{"type": "object", "required": []string{"rules", "risk", "crisis_lines", "suggestions", "all", "notice"},
				"properties": obj{
					"rules": obj{"type": "object", "required": []string{"version", "author", "reviewer", "reviewed", "next_review", "how_url"},
						"description": "The rule set the suggestions came from, who wrote and reviewed it, and when it is next due for review.",
						"properties": obj{"version": obj{"type": "string"}, "author": ref("Person"), "reviewer": ref("Person"), "reviewed": date, "next_review": date,
							"how_url": obj{"type": "string", "description": "The public page listing every rule and source."}}},
					"risk":         obj{"type": "boolean", "description": "The answers say the person is in danger or hurts themselves: show crisis_lines first."},
					"crisis_lines": stringList,
					"suggestions": obj{"type": "array", "minItems": 0, "maxItems": 4, "items": obj{"allOf": []obj{ref("GuidedSearch"), {"type": "object",
						"required": []string{"approach", "label", "reasons", "evidence", "source"},
						"properties": obj{"approach": obj{"type": "string", "enum": slugs(taxonomy.Approach)}, "label": obj{"type": "string"},
							"reasons": stringList, "evidence": obj{"type": "string"},
							"source":      obj{"oneOf": []obj{ref("GuidedSource"), {"type": "null"}}},
							"article_url": obj{"type": "string", "description": "The reviewed article on this approach, when one is published."},
							"wider":       obj{"allOf": []obj{ref("GuidedSearch")}, "description": "Only the approach and formats, given when the full search finds nobody."}}}}}},
					"all":    ref("GuidedSearch"),
					"notice": obj{"type": "string"},
				}},
			"GuidedSource": obj{"type": "object", "required": []string{"title", "publisher", "year", "url"},
				"properties": obj{"title": obj{"type": "string"}, "publisher": obj{"type": "string"}, "year": obj{"type": "integer"}, "url": obj{"type": "string"}}},
			"Person": obj{"type": "object", "required": []string{"name", "credentials"},
				"properties": obj{"name": obj{"type": "string"}, "credentials": obj{"type": "string"}}},
			"Health": obj{"type": "object", "required": []string{"status", "indexed", "index_seq", "database"},
				"properties": obj{"status": obj{"type": "string", "enum": []string{"ok", "unavailable"}}, "indexed": obj{"type": "integer"},
					"index_seq": obj{"type": "integer"}, "database": obj{"type": "string", "enum": []string{"ok", "unavailable"}}}},
		}},
	}
	// Every route the handler serves is described (the test checks the
	// converse with real traffic).
	paths := doc["paths"].(obj)
	for _, r := range (&Handler{}).Routes() {
		method, p, ok := strings.Cut(r, " ")
		if ok && !slices.Contains([]string{"/api/"}, p) {
			if item, ok := paths[p].(obj); !ok || item[strings.ToLower(method)] == nil {
				return nil, fmt.Errorf("openapi: route %s is not described", r)
			}
		}
	}
	return json.MarshalIndent(doc, "", "  ")
}

func (h *Handler) showOpenAPI(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Cache-Control", "public, max-age=3600")
	writeBody(w, r, http.StatusOK, h.openapi)
	return nil
}

// with adds the properties of extra to props and returns it.
func with(extra, props obj) obj {
	for k, v := range extra {
		props[k] = v
	}
	return props
}
