/*
 * vocab - names of key kinds and actions.  See include/qshape/vocab.h.
 */
#include <string.h>

#include "qshape/vocab.h"

static const char *const kind_names[QS_NKEYKINDS] = {
    [QS_KEY_SENDER_DOMAIN] = "sender_domain",
    [QS_KEY_PARENT_DOMAIN] = "parent_domain",
    [QS_KEY_SENDER] = "sender",
    [QS_KEY_CLIENT_ADDRESS] = "client_address",
    [QS_KEY_SASL_USERNAME] = "sasl_username",
    [QS_KEY_RCPT_DOMAIN] = "rcpt_domain",
};

static const char *const action_names[QS_NACTIONS] = {
    [QS_ACTION_LOG] = "log",
    [QS_ACTION_TEMPFAIL] = "tempfail",
    [QS_ACTION_HOLD] = "hold",
    [QS_ACTION_ACCEPT] = "accept",
};

const char *
qs_kind_name(int kind)
{
    return kind >= 0 && kind < QS_NKEYKINDS ? kind_names[kind] : "?";
}

int
qs_kind_parse(const char *name)
{
    int     k;

    for (k = 0; k < QS_NKEYKINDS; k++)
	if (k != QS_KEY_RCPT_DOMAIN && strcmp(name, kind_names[k]) == 0)
	    return k;
    return -1;
}

const char *
qs_action_name(int action)
{
    return action >= 0 && action < QS_NACTIONS ? action_names[action] : "?";
}

int
qs_action_parse(const char *name)
{
    int     a;

    for (a = 0; a < QS_NACTIONS; a++)
	if (strcmp(name, action_names[a]) == 0)
	    return a;
    return -1;
}
