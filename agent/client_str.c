/*
 * client_str.c: owns the names client.h's results and probe answers have
 * in logs and reports, shared by the real client (client.c) and the
 * simulation's (tests/sim/sim_client.c), which replaces only client.c.
 */
#include "client.h"

const char *
client_result_str(enum client_result r)
{
	switch (r) {
	case CLIENT_OK:		return "ok";
	case CLIENT_TRANSIENT:	return "temporary failure";
	case CLIENT_UNKNOWN:	return "outcome unknown";
	case CLIENT_THROTTLED:	return "throttled";
	case CLIENT_AUTH:	return "access refused";
	case CLIENT_BAD_REPLY:	return "bad reply";
	case CLIENT_REFUSED:	return "request refused";
	case CLIENT_STOPPED:	return "stopped";
	}
	return "?";
}

const char *
client_probe_str(enum key_probe f)
{
	switch (f) {
	case PROBE_SEEN:	return "seen";
	case PROBE_UNSEEN:	return "unseen";
	case PROBE_IN_FLIGHT:	return "in flight";
	case PROBE_UNTOLD:	return "untold";
	}
	return "?";
}
