/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <gio/gio.h>

#include "moat-event.h"
#include "moat-network.h"
#include "moat-policy.h"

G_BEGIN_DECLS

/**
 * MoatResponseState:
 * @MOAT_RESPONSE_TRYING: the action is being taken (a VPN coming up)
 * @MOAT_RESPONSE_IN_EFFECT: the action holds until the threat clears
 * @MOAT_RESPONSE_DONE: a one-off action was taken (a notification, leaving a
 *   Wi-Fi network)
 * @MOAT_RESPONSE_FAILED: every action of the chain failed
 *
 * Where one chain of a threat's response stands.
 */
typedef enum {
  MOAT_RESPONSE_TRYING,
  MOAT_RESPONSE_IN_EFFECT,
  MOAT_RESPONSE_DONE,
  MOAT_RESPONSE_FAILED,
} MoatResponseState;

const char *moat_response_state_to_string (MoatResponseState state);

/**
 * MoatResponse:
 * @threat: the threat id
 * @subject: the threat's subject
 * @action: the chain's current action (the one that worked, is being tried,
 *   or failed last)
 * @state: where the chain stands
 * @reason: (nullable): why the last action failed, for people
 *
 * One chain of the response to an active threat.
 */
typedef struct {
  char              *threat;
  char              *subject;
  MoatAction         action;
  MoatResponseState  state;
  char              *reason;
} MoatResponse;

void moat_response_free (MoatResponse *response);

/**
 * MoatResponderHooks:
 * @record: an event to record (action taken, failed, reverted)
 * @set_protected: wall off the protected resources (the policy's `protect`
 *   hosts and the user's protected-resources list), or stop
 * @has_protected: whether there are any protected resources to wall off
 * @action_allowed: whether the user lets Moat take @action (the switches in
 *   Preferences); %NULL: all are
 * @set_blocked_hosts: the hosts the policy cut off (%NULL: none)
 * @set_gateway: route proxy traffic through @gateway ("host:port") or, with
 *   %NULL, through what the settings say
 * @notify: one notification for an incident: its title, body and severity
 *
 * How the responder acts on the rest of Moat. Called on the responder's
 * main context; they must not block.
 */
typedef struct {
  void (*record)            (MoatEvent          *event,
                             gpointer            user_data);
  void (*set_protected)     (gboolean            walled,
                             gpointer            user_data);
  gboolean (*has_protected) (gpointer            user_data);
  gboolean (*action_allowed) (MoatAction         action,
                              gpointer           user_data);
  void (*set_blocked_hosts) (const char * const *hosts,
                             gpointer            user_data);
  void (*set_gateway)       (const char         *gateway,
                             gpointer            user_data);
  void (*notify)            (const char         *title,
                             const char         *body,
                             MoatSeverity        severity,
                             gpointer            user_data);
  gpointer user_data;
} MoatResponderHooks;

#define MOAT_RESPONDER_STATE_FILENAME "response-state.json"

#define MOAT_TYPE_RESPONDER (moat_responder_get_type ())
G_DECLARE_FINAL_TYPE (MoatResponder, moat_responder, MOAT, RESPONDER, GObject)

/*
 * MoatResponder: runs the policy's actions for each active threat, with
 * their fallbacks, and undoes them when the threat clears.
 *
 * Signals:
 *   ::responses-changed: a chain moved (tried, took effect, failed, reverted).
 *   ::idle: nothing is in flight any more (every chain settled, every revert
 *     done); for tests and for orderly shutdown.
 *   ::vpn-changed (gboolean active): a VPN Moat raised started or stopped
 *     carrying the traffic (the network checks then see the tunnel, not the
 *     network).
 */
MoatResponder *moat_responder_new             (MoatNetwork              *network,
                                               const MoatResponderHooks *hooks,
                                               const char               *state_dir);
void           moat_responder_set_policy      (MoatResponder            *self,
                                               MoatPolicy               *policy);
void           moat_responder_start           (MoatResponder            *self);
void           moat_responder_threat_raised   (MoatResponder            *self,
                                               const char               *threat,
                                               MoatSeverity              severity,
                                               const char               *subject);
void           moat_responder_threat_cleared  (MoatResponder            *self,
                                               const char               *threat,
                                               const char               *subject);
void           moat_responder_reconsider      (MoatResponder            *self,
                                               MoatAction                action);
GPtrArray     *moat_responder_get_responses   (MoatResponder            *self);
gboolean       moat_responder_is_idle         (MoatResponder            *self);

G_END_DECLS
