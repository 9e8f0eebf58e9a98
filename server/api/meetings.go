package api

import zcv1 "github.com/zoomconnect/zoomconnect/gen/zoomconnect/v1"

// MeetingServer implements zoomconnect.v1.MeetingService; every RPC answers
// UNIMPLEMENTED until the meetings milestone.
type MeetingServer struct {
	zcv1.UnimplementedMeetingServiceServer
}
