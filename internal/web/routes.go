package web

import (
	"net/http"

	"github.com/confide-org/confide/internal/account"
	"github.com/confide-org/confide/internal/content"
	"github.com/confide-org/confide/internal/enquiry"
	"github.com/confide-org/confide/internal/httpx"
)

// route is one page of the site and who may use it.
type route struct {
	pattern string
	access  access
	fn      handlerFunc
}

// Route describes a route for tests and documentation.
type Route struct {
	Pattern string
	// Access is "public", "signed-in" or "role:a|b" (any of the roles).
	Access string
}

// routes is the site's route table: the only place pages are listed, so
// that the role-by-route test sees every one of them.
func (h *Handler) routes() []route {
	rs := []route{
		{"GET /{$}", public, h.showHome},
		{"GET /search", public, h.showSearch},
		{"GET /therapists/{slug}", public, h.showTherapist},
		{"GET /therapies", public, h.listTherapies},
		{"GET /issues", public, h.listIssues},
		{"GET /about", public, h.showAbout},
		// guided.go
		{"GET /find/guided", public, h.showGuided},
		{"POST /find/guided", public, h.postGuided},
		{"GET /find/guided/help", public, h.showGuidedHelp},
		{"GET /find/guided/how", public, h.showGuidedHow},
		// maps.go
		{"GET /maps/districts/{file}", public, h.showDistrictMap},
	}
	if h.Content != nil {
		rs = append(rs,
			// articles.go
			route{"GET /therapies/{slug}", public, h.showArticle(content.KindTherapy)},
			route{"GET /issues/{slug}", public, h.showArticle(content.KindIssue)},
			route{"GET /guides", public, h.listGuides},
			route{"GET /guides/{slug}", public, h.showArticle(content.KindGuide)},
			route{"GET /panel", public, h.showPanel},
			route{"GET /sitemap.xml", public, h.showSitemap},
			route{"GET /feed.atom", public, h.showFeed},
			route{"GET /robots.txt", public, h.showRobots},
		)
	}
	if h.Accounts == nil {
		return rs
	}
	therapist := roles(account.Therapist)
	verifier := roles(account.Verifier)
	admin := roles(account.Admin)
	rs = append(rs,
		// accounts.go
		route{"GET /signup", public, h.showSignUp},
		route{"POST /signup", public, h.createAccount},
		route{"GET /confirm", public, h.showConfirm},
		route{"POST /confirm", public, h.confirmEmail},
		route{"GET /signin", public, h.showSignIn},
		route{"POST /signin", public, h.createSession},
		route{"POST /signout", signedIn, h.deleteSession},
		route{"GET /reset", public, h.showReset},
		route{"POST /reset", public, h.requestReset},
		route{"GET /reset/new", public, h.showNewPassword},
		route{"POST /reset/new", public, h.resetPassword},
		route{"GET /setup", public, h.showSetup},
		route{"POST /setup", public, h.setupPassword},
		route{"GET /account", signedIn, h.showAccount},
		route{"POST /account/password", signedIn, h.changePassword},
		route{"POST /account/email", signedIn, h.changeEmail},
		route{"GET /account/email/confirm", public, h.showEmailConfirm},
		route{"POST /account/email/confirm", public, h.confirmEmailChange},
		// dashboard.go
		route{"GET /dashboard", therapist, h.showDashboard},
		route{"GET /dashboard/profile", therapist, h.editProfile},
		route{"POST /dashboard/profile", therapist, h.saveProfile},
		route{"GET /dashboard/preview", therapist, h.previewProfile},
		route{"POST /dashboard/publish", therapist, h.publishProfile},
		route{"POST /dashboard/unpublish", therapist, h.unpublishProfile},
		route{"POST /dashboard/availability", therapist, h.confirmAvailability},
		route{"GET /dashboard/verification", therapist, h.showEvidence},
		route{"POST /dashboard/verification", therapist, h.submitEvidence},
		// staff.go
		route{"GET /staff", roles(account.Verifier, account.Editor, account.Reviewer, account.Admin), h.showStaffHome},
		route{"GET /staff/verifications", verifier, h.listVerifications},
		route{"GET /staff/verifications/{id}", verifier, h.showVerification},
		route{"POST /staff/verifications/{id}", verifier, h.decideVerification},
		route{"GET /staff/profiles/{id}", roles(account.Verifier, account.Admin), h.showStaffProfile},
		route{"POST /staff/profiles/{id}/suspend", roles(account.Verifier, account.Admin), h.suspendProfile},
		route{"POST /staff/profiles/{id}/reinstate", roles(account.Verifier, account.Admin), h.reinstateProfile},
		// admin.go
		route{"GET /admin/users", admin, h.listUsers},
		route{"GET /admin/users/{id}", admin, h.showUser},
		route{"POST /admin/users/{id}/roles", admin, h.changeRoles},
		route{"POST /admin/users/{id}/disable", admin, h.disableUser},
		route{"POST /admin/users/{id}/enable", admin, h.enableUser},
		route{"GET /admin/audit", admin, h.showAudit},
	)
	if h.Photos != nil {
		rs = append(rs,
			// photos.go
			route{"GET /photos/{id}/{file}", public, h.showPhoto},
			route{"GET /dashboard/photo", therapist, h.editPhoto},
			route{"POST /dashboard/photo", therapist, h.uploadPhoto},
			route{"POST /dashboard/photo/remove", therapist, h.removePhoto},
			route{"GET /staff/photos", verifier, h.listPhotos},
			route{"POST /staff/photos/{id}", verifier, h.decidePhoto},
		)
	}
	if h.Import != nil {
		rs = append(rs,
			// imports.go
			route{"GET /admin/import", admin, h.showImport},
			route{"POST /admin/import", admin, h.runImport},
		)
	}
	if h.Enquiries != nil {
		rs = append(rs,
			// enquiries.go
			route{"POST /therapists/{slug}/enquiries", public, h.sendEnquiry},
			route{"GET /enquiries/sent", public, h.showEnquirySent},
			route{"GET /enquiries/erase", public, h.showErase},
			route{"POST /enquiries/erase", public, h.eraseEnquiry},
			route{"GET /dashboard/enquiries", therapist, h.listEnquiries},
			route{"GET /dashboard/enquiries/{id}", therapist, h.showEnquiry},
			route{"POST /dashboard/enquiries/{id}/replied", therapist, h.setEnquiryStatus(enquiry.Replied, "Marked as replied. Thank you for replying.")},
			route{"POST /dashboard/enquiries/{id}/archive", therapist, h.setEnquiryStatus(enquiry.Archived, "Enquiry archived.")},
			route{"GET /dashboard/export", therapist, h.exportData},
			route{"GET /admin/outbox", admin, h.listDeadLetters},
		)
	}
	if h.Editorial != nil {
		editor := roles(account.Editor)
		editorOrReviewer := roles(account.Editor, account.Reviewer)
		rs = append(rs,
			// editorial.go
			route{"GET /staff/articles", editorOrReviewer, h.listArticles},
			route{"GET /staff/articles/new", editor, h.newArticle},
			route{"POST /staff/articles", editor, h.saveArticle},
			route{"GET /staff/articles/{id}", editorOrReviewer, h.editArticle},
			route{"POST /staff/articles/{id}", editor, h.saveArticle},
			route{"POST /staff/articles/{id}/submit", editor, h.submitArticle},
			route{"POST /staff/articles/{id}/review", roles(account.Reviewer), h.reviewArticle},
			route{"POST /staff/articles/{id}/publish", editor, h.publishArticle},
			route{"POST /staff/articles/{id}/archive", editor, h.archiveArticle},
			route{"GET /staff/articles/{id}/preview", editorOrReviewer, h.previewArticle},
			route{"GET /staff/articles/{id}/diff", editorOrReviewer, h.diffArticle},
			route{"GET /staff/contributors", editor, h.listContributors},
			route{"POST /staff/contributors", editor, h.saveContributor},
		)
	}
	if h.Mailbox != nil {
		rs = append(rs, route{"GET /demo/mailbox", public, h.showMailbox})
	}
	return rs
}

// Routes lists every page route with its access rule.
func (h *Handler) Routes() []Route {
	var out []Route
	for _, r := range h.routes() {
		out = append(out, Route{Pattern: r.pattern, Access: r.access.String()})
	}
	return out
}

// Register adds the pages' routes to mux (an *http.ServeMux, or an
// httpx.Mux that labels request metrics by route).
func (h *Handler) Register(mux httpx.Router) {
	for _, rt := range h.routes() {
		var handler http.Handler = h.serve(h.guard(rt.access, rt.fn))
		if h.Sessions != nil {
			handler = h.Sessions.LoadAndSave(h.withUser(handler))
		}
		mux.Handle(rt.pattern, handler)
	}
	mux.Handle("GET /static/", http.StripPrefix("/static/", staticHandler()))
	notFound := h.serve(h.showNotFound)
	if h.Sessions != nil {
		notFound = h.Sessions.LoadAndSave(h.withUser(notFound))
	}
	mux.Handle("/", notFound)
}
