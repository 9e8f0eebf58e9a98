package errs

// ReasonZoomScopeMissing: Zoom refused a call because the Zoom app's grant
// lacks a scope (HTTP 400, code 4711). Only the app's configuration in the
// Zoom App Marketplace, and a new approval, fix it; retrying does not.
const ReasonZoomScopeMissing = "ZOOM_SCOPE_MISSING"
