package connection

// MemberIndexEntry is the index entry (see store.IndexChange) the service
// keeps for a member matched to a Zoom user, through which Zoom's user
// events find the member. Bulk seeding (package loadgen), which writes
// member records through the store without the service, writes it too.
func MemberIndexEntry(orgID, userID, zoomUserID string) (index, key, member string) {
	return indexZoomUser, zoomUserID, "member/" + orgID + "/" + userID
}
