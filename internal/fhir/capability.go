package fhir

import (
	"net/http"
	"time"
)

// The CapabilityStatement: what this server is and which reads and
// searches it answers. It is built from the same table of search
// parameters that parseSearch accepts, so the two cannot disagree.
type capabilityStatement struct {
	ResourceType   string            `json:"resourceType"`
	Status         string            `json:"status"`
	Date           string            `json:"date"`
	Publisher      string            `json:"publisher,omitempty"`
	Kind           string            `json:"kind"`
	Software       capSoftware       `json:"software"`
	Implementation capImplementation `json:"implementation"`
	FHIRVersion    string            `json:"fhirVersion"`
	Format         []string          `json:"format"`
	Rest           []capRest         `json:"rest"`
}

type capSoftware struct {
	Name string `json:"name"`
}

type capImplementation struct {
	Description string `json:"description"`
	URL         string `json:"url"`
}

type capRest struct {
	Mode          string        `json:"mode"`
	Documentation string        `json:"documentation"`
	Resource      []capResource `json:"resource"`
}

type capResource struct {
	Type        string           `json:"type"`
	Interaction []capInteraction `json:"interaction"`
	SearchParam []capSearchParam `json:"searchParam,omitempty"`
}

type capInteraction struct {
	Code string `json:"code"`
}

type capSearchParam struct {
	Name          string `json:"name"`
	Type          string `json:"type"`
	Documentation string `json:"documentation"`
}

// common are the result parameters every search takes.
var common = []capSearchParam{
	{Name: paramCount, Type: "number", Documentation: "Results per page, 1 to 100 (default 20)."},
	{Name: paramPage, Type: "number", Documentation: "Page of results, from 1; the Bundle's next and previous links carry it."},
}

// searchParams are the parameters of each resource type's search.
func searchParams() map[string][]capSearchParam {
	return map[string][]capSearchParam{
		"Practitioner": common,
		"PractitionerRole": append([]capSearchParam{
			{Name: paramSpecialty, Type: "token", Documentation: "Therapy approach: a SNOMED CT concept (http://snomed.info/sct|304891004) or a Confide approach code; commas for any of several."},
			{Name: paramRolePostalCode, Type: "string", Documentation: "Practises in this postcode district; a full postcode is narrowed to its district."},
		}, common...),
		"Location": append([]capSearchParam{
			{Name: paramPostalCode, Type: "string", Documentation: "Required: practices in this postcode district; a full postcode is narrowed to its district."},
		}, common...),
		"Organization": common,
	}
}

func (h *Handler) capabilities(w http.ResponseWriter, r *http.Request) error {
	params := searchParams()
	cs := capabilityStatement{ResourceType: "CapabilityStatement", Status: "active",
		Date: h.Now().UTC().Format(time.DateOnly), Publisher: h.SiteName, Kind: "instance",
		Software:       capSoftware{Name: "Confide"},
		Implementation: capImplementation{Description: h.SiteName + " directory of verified counsellors and psychotherapists", URL: h.BaseURL + Prefix},
		FHIRVersion:    FHIRVersion, Format: []string{"json"},
		Rest: []capRest{{Mode: "server", Documentation: "Read-only. Only profiles the public directory shows, with no more than their public pages show."}},
	}
	for _, t := range []string{"Practitioner", "PractitionerRole", "Location", "Organization"} {
		cs.Rest[0].Resource = append(cs.Rest[0].Resource, capResource{Type: t,
			Interaction: []capInteraction{{Code: "read"}, {Code: "search-type"}}, SearchParam: params[t]})
	}
	w.Header().Set("Cache-Control", "public, max-age=3600")
	write(w, r, http.StatusOK, cs)
	return nil
}
