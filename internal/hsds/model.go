package hsds

// The HSDS 3.0 objects Confide fills, each with only the fields it has
// something true to say in. Field names are HSDS's; a field left empty is
// left out, as HSDS's JSON form allows for every field it does not
// require. The flat fields of each object are also its table's columns in
// the tabular data package (see Tables); the nested ones (slices and
// pointers to other objects) appear only in API answers.
type (
	// Organization is a therapist's practice: in HSDS every service
	// belongs to the organization responsible for delivering it, and a
	// therapist in private practice is that organization.
	Organization struct {
		ID          string `json:"id"`
		Name        string `json:"name"`
		Description string `json:"description"`
		Website     string `json:"website,omitempty"`
		// Nested, API only.
		OrganizationIdentifiers []OrganizationIdentifier `json:"organization_identifiers,omitempty"`
		Services                []*Service               `json:"services,omitempty"`
	}

	// OrganizationIdentifier is a register membership number: the
	// public identifier by which a professional body knows the
	// practitioner.
	OrganizationIdentifier struct {
		ID             string `json:"id"`
		OrganizationID string `json:"organization_id"`
		IdentifierType string `json:"identifier_type"`
		Identifier     string `json:"identifier"`
	}

	// Service is what a therapist offers.
	Service struct {
		ID                     string `json:"id"`
		OrganizationID         string `json:"organization_id"`
		Name                   string `json:"name"`
		AlternateName          string `json:"alternate_name,omitempty"`
		Description            string `json:"description,omitempty"`
		URL                    string `json:"url"`
		Status                 string `json:"status"`
		ApplicationProcess     string `json:"application_process,omitempty"`
		FeesDescription        string `json:"fees_description,omitempty"`
		Accreditations         string `json:"accreditations,omitempty"`
		EligibilityDescription string `json:"eligibility_description,omitempty"`
		AssuredDate            string `json:"assured_date,omitempty"`
		Alert                  string `json:"alert,omitempty"`
		LastModified           string `json:"last_modified,omitempty"`
		// Nested, API only.
		Organization       *Organization        `json:"organization,omitempty"`
		ServiceAtLocations []*ServiceAtLocation `json:"service_at_locations,omitempty"`
		Schedules          []Schedule           `json:"schedules,omitempty"`
		Languages          []Language           `json:"languages,omitempty"`
		CostOptions        []CostOption         `json:"cost_options,omitempty"`
		Attributes         []Attribute          `json:"attributes,omitempty"`
	}

	// Location is a practice (physical, placed at its postcode
	// district's centre, never the street) or the virtual place of
	// sessions by video.
	Location struct {
		ID             string   `json:"id"`
		LocationType   string   `json:"location_type"`
		OrganizationID string   `json:"organization_id"`
		Name           string   `json:"name"`
		Description    string   `json:"description,omitempty"`
		Latitude       *float64 `json:"latitude,omitempty"`
		Longitude      *float64 `json:"longitude,omitempty"`
		// Nested, API only.
		Accessibility []Accessibility `json:"accessibility,omitempty"`
	}

	// Accessibility says a practice is wheelchair accessible.
	Accessibility struct {
		ID          string `json:"id"`
		LocationID  string `json:"location_id"`
		Description string `json:"description"`
	}

	// ServiceAtLocation is the service as offered at one location.
	ServiceAtLocation struct {
		ID          string `json:"id"`
		ServiceID   string `json:"service_id"`
		LocationID  string `json:"location_id"`
		Description string `json:"description,omitempty"`
		// Nested, API only.
		Schedules []Schedule `json:"schedules,omitempty"`
		Location  *Location  `json:"location,omitempty"`
		Service   *Service   `json:"service,omitempty"`
	}

	// Schedule says how and when sessions can be had, in words: the
	// profile says "weekday evenings", "Saturdays" and "Sundays", never
	// hours, so no hours are invented. Weekend days are also given as the
	// RFC 5545 rule HSDS uses (weekly, on SA and/or SU).
	Schedule struct {
		ID                  string `json:"id"`
		ServiceID           string `json:"service_id,omitempty"`
		ServiceAtLocationID string `json:"service_at_location_id,omitempty"`
		Freq                string `json:"freq,omitempty"`
		Byday               string `json:"byday,omitempty"`
		Description         string `json:"description,omitempty"`
		AttendingType       string `json:"attending_type,omitempty"`
	}

	// CostOption is a fee: the lowest and the highest per session, and
	// reduced fees when the therapist offers them.
	CostOption struct {
		ID                string   `json:"id"`
		ServiceID         string   `json:"service_id"`
		Option            string   `json:"option,omitempty"`
		Currency          string   `json:"currency,omitempty"`
		Amount            *float64 `json:"amount,omitempty"`
		AmountDescription string   `json:"amount_description,omitempty"`
	}

	// Language is a language sessions are held in.
	Language struct {
		ID        string `json:"id"`
		ServiceID string `json:"service_id"`
		Name      string `json:"name"`
		Code      string `json:"code"`
	}

	// Attribute links a service to a taxonomy term: an approach, an
	// issue, a client group or a format, and the SNOMED CT concepts of
	// its approaches.
	Attribute struct {
		ID             string `json:"id"`
		LinkID         string `json:"link_id"`
		TaxonomyTermID string `json:"taxonomy_term_id"`
		LinkType       string `json:"link_type"`
		LinkEntity     string `json:"link_entity"`
		// Nested, API only.
		TaxonomyTerm *TaxonomyTerm `json:"taxonomy_term,omitempty"`
	}

	// TaxonomyTerm is one term of Confide's taxonomy or a SNOMED CT
	// concept the taxonomy names.
	TaxonomyTerm struct {
		ID          string `json:"id"`
		Code        string `json:"code"`
		Name        string `json:"name"`
		Description string `json:"description"`
		ParentID    string `json:"parent_id,omitempty"`
		Taxonomy    string `json:"taxonomy"`
		Language    string `json:"language,omitempty"`
		TaxonomyID  string `json:"taxonomy_id"`
		TermURI     string `json:"term_uri,omitempty"`
		// Nested, API only.
		TaxonomyDetail *Taxonomy `json:"taxonomy_detail,omitempty"`
	}

	// Taxonomy is a vocabulary terms come from.
	Taxonomy struct {
		ID          string `json:"id"`
		Name        string `json:"name"`
		Description string `json:"description"`
		URI         string `json:"uri,omitempty"`
		Version     string `json:"version,omitempty"`
	}
)
