/* SPDX-License-Identifier: Apache-2.0 */
/*
 * error.c - names for every error code stormtrap returns.
 *
 * Domain errors (ST_ERR_*) come from a fixed table; system errors (-errno)
 * from glibc's strerrordesc_np(), which, unlike strerror(), returns a
 * static string without touching locale or a per-thread buffer, so
 * st_strerror() is safe to call from any thread.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* strerrordesc_np */
#endif
#include <string.h>

#include "st_codec.h"

static const struct {
	int err;
	const char *name;
} st_errors[] = {
        {ST_ERR_BER_TRUNCATED, "BER: value runs past its container"},
        {ST_ERR_BER_LENGTH, "BER: indefinite, reserved or over-long length"},
        {ST_ERR_BER_TAG, "BER: unexpected tag"},
        {ST_ERR_BER_INT, "BER: integer empty, too long or out of range"},
        {ST_ERR_BER_OID, "BER: invalid OBJECT IDENTIFIER"},
        {ST_ERR_BER_TRAILING, "BER: trailing bytes after a value"},
        {ST_ERR_BER_SPACE, "BER: output buffer too small"},
        {ST_ERR_BER_VALUE, "BER: value of the wrong size"},
        {ST_ERR_SNMP_VERSION, "SNMP: unsupported message version"},
        {ST_ERR_SNMP_PDU, "SNMP: unexpected PDU type"},
        {ST_ERR_SNMP_VARBINDS, "SNMP: too many variable bindings"},
        {ST_ERR_SNMP_SECMODEL, "SNMP: unsupported security model"},
        {ST_ERR_SNMP_FLAGS, "SNMP: invalid msgFlags"},
        {ST_ERR_SNMP_HEADER, "SNMP: v3 header field out of range"},
        {ST_ERR_JSON_SPACE, "JSON: output buffer too small"},
        {ST_ERR_USM_UNSUPPORTED_SECLEVEL, "USM: unsupported security level"},
        {ST_ERR_USM_NOT_IN_TIME_WINDOW, "USM: not in time window"},
        {ST_ERR_USM_UNKNOWN_USER, "USM: unknown user name"},
        {ST_ERR_USM_UNKNOWN_ENGINE_ID, "USM: unknown engine ID"},
        {ST_ERR_USM_WRONG_DIGEST, "USM: wrong digest"},
        {ST_ERR_USM_DECRYPTION, "USM: decryption error"},
        {ST_ERR_USM_PARAMS, "USM: malformed security parameters"},
        {ST_ERR_USM_CRYPTO, "USM: crypto library failure"},
        {ST_ERR_CONFIG, "configuration error"},
};

const char *st_strerror(int err)
{
	if (err == 0)
		return "success";
	if (err <= ST_ERR_BASE && err >= ST_ERR_MAX) {
		for (size_t i = 0; i < sizeof(st_errors) / sizeof(st_errors[0]); i++)
			if (st_errors[i].err == err)
				return st_errors[i].name;
		return "unknown stormtrap error";
	}
	if (err < 0) {
		const char *s = strerrordesc_np(-err);

		if (s)
			return s;
	}
	return "unknown error";
}
