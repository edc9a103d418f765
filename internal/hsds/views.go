package hsds

// The nested forms the API answers with, assembled from a Record's rows
// so that the API and the data package cannot say different things.

// ListService is the service with its one-to-one fields and its
// organization, as HSDS lists services.
func (r *Record) ListService() *Service {
	s := r.Service
	o := r.Organization
	s.Organization = &o
	return &s
}

// FullService is the service with everything linked to it nested.
func (m *Mapper) FullService(r *Record) *Service {
	s := r.Service
	s.Organization = m.fullOrganization(r)
	for i := range r.ServiceAtLocations {
		s.ServiceAtLocations = append(s.ServiceAtLocations, r.fullServiceAtLocation(i))
	}
	for _, sc := range r.Schedules {
		if sc.ServiceID == s.ID {
			s.Schedules = append(s.Schedules, sc)
		}
	}
	s.Languages = r.Languages
	s.CostOptions = r.CostOptions
	for _, a := range r.Attributes {
		if t, ok := m.byID[a.TaxonomyTermID]; ok {
			tc := *t
			tc.TaxonomyDetail = m.taxaByID[t.TaxonomyID]
			a.TaxonomyTerm = &tc
		}
		s.Attributes = append(s.Attributes, a)
	}
	return &s
}

func (m *Mapper) fullOrganization(r *Record) *Organization {
	o := r.Organization
	o.OrganizationIdentifiers = r.Identifiers
	return &o
}

// FullOrganization is the practice with its identifiers and its service:
// in list form, or fully nested when full is set.
func (m *Mapper) FullOrganization(r *Record, full bool) *Organization {
	o := m.fullOrganization(r)
	if full {
		s := m.FullService(r)
		s.Organization = nil
		o.Services = []*Service{s}
	} else {
		s := r.Service
		o.Services = []*Service{&s}
	}
	return o
}

// FullLocation is location i of the record with its accessibility.
func (r *Record) FullLocation(i int) *Location {
	l := r.Locations[i]
	for _, a := range r.Accessibility {
		if a.LocationID == l.ID {
			l.Accessibility = append(l.Accessibility, a)
		}
	}
	return &l
}

// ListServiceAtLocation is service-at-location i with its location and
// its service in list form, as HSDS lists them.
func (r *Record) ListServiceAtLocation(i int) *ServiceAtLocation {
	sal := r.ServiceAtLocations[i]
	l := r.Locations[i]
	sal.Location = &l
	sal.Service = r.ListService()
	return &sal
}

func (r *Record) fullServiceAtLocation(i int) *ServiceAtLocation {
	sal := r.ServiceAtLocations[i]
	sal.Location = r.FullLocation(i)
	for _, sc := range r.Schedules {
		if sc.ServiceAtLocationID == sal.ID {
			sal.Schedules = append(sal.Schedules, sc)
		}
	}
	return &sal
}

// FullServiceAtLocation is service-at-location i with its schedules, its
// location fully nested and its service in list form.
func (r *Record) FullServiceAtLocation(i int) *ServiceAtLocation {
	sal := r.fullServiceAtLocation(i)
	sal.Service = r.ListService()
	return sal
}
