/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <gio/gio.h>

#include "moat-enums.h"

G_BEGIN_DECLS

/**
 * MoatAction:
 * @MOAT_ACTION_VPN_ON_DEMAND: bring up the policy's VPN connection until the
 *   threats that needed it are gone
 * @MOAT_ACTION_BLOCK_PROTECTED_RESOURCES: the proxy refuses the protected
 *   resources until the threat clears
 * @MOAT_ACTION_ROUTE_VIA_GATEWAY: all proxy traffic goes through the policy's
 *   web gateway
 * @MOAT_ACTION_DISCONNECT_WIFI: leave the Wi-Fi network
 * @MOAT_ACTION_DISABLE_VPN: take down a VPN the policy does not know
 * @MOAT_ACTION_BLOCK_HOST: block the threat's host (a command-and-control server)
 * @MOAT_ACTION_NOTIFY: tell the user; never fails
 *
 * What a policy can ask Moat to do about a threat.
 */
typedef enum {
  MOAT_ACTION_VPN_ON_DEMAND,
  MOAT_ACTION_BLOCK_PROTECTED_RESOURCES,
  MOAT_ACTION_ROUTE_VIA_GATEWAY,
  MOAT_ACTION_DISCONNECT_WIFI,
  MOAT_ACTION_DISABLE_VPN,
  MOAT_ACTION_BLOCK_HOST,
  MOAT_ACTION_NOTIFY,
  MOAT_ACTION_LAST /*< skip >*/
} MoatAction;

const char *moat_action_to_string   (MoatAction  action);
gboolean    moat_action_from_string (const char *str,
                                     MoatAction *out);

/* The largest policy file Moat reads, and its longest line. */
#define MOAT_POLICY_MAX_SIZE (256 * 1024)
#define MOAT_POLICY_MAX_LINE 1024
#define MOAT_POLICY_MAX_RULES 512
#define MOAT_POLICY_MAX_CHAINS 8
#define MOAT_POLICY_MAX_CHAIN_LENGTH 8
#define MOAT_POLICY_MAX_REMIND 8
#define MOAT_POLICY_MAX_CHECK_PATTERNS 32

/**
 * MoatPolicyChain:
 * @actions: (array length=n_actions): tried in order; the first that works
 *   ends the chain (`a || b`)
 *
 * One chain of fallbacks.
 */
typedef struct {
  MoatAction actions[MOAT_POLICY_MAX_CHAIN_LENGTH];
  guint      n_actions;
} MoatPolicyChain;

/**
 * MoatPolicyRule:
 * @pattern: `vector.kind`, `vector.*` or `*`
 * @min_severity: the least severity the rule applies to
 * @chains: (array length=n_chains): all of them run (`chain; chain`)
 * @line: where it is in its file
 */
typedef struct {
  char            *pattern;
  MoatSeverity     min_severity;
  MoatPolicyChain  chains[MOAT_POLICY_MAX_CHAINS];
  guint            n_chains;
  guint            line;
} MoatPolicyRule;

/**
 * MoatPolicyCadence:
 * @intervals: (array length=n_intervals): the first reminder's delay after
 *   a health problem is first seen, then each next one's after the one
 *   before (µs)
 * @repeat: after those, one reminder every @repeat µs; 0 for none
 *
 * When to remind the user of a health problem that is not fixed
 * (`remind = now, 1d, every 3d`). No intervals and no repeat: never
 * (`remind = off`).
 */
typedef struct {
  gint64 intervals[MOAT_POLICY_MAX_REMIND];
  guint  n_intervals;
  gint64 repeat;
} MoatPolicyCadence;

typedef struct _MoatPolicy MoatPolicy;

GType       moat_policy_get_type        (void) G_GNUC_CONST;
#define MOAT_TYPE_POLICY (moat_policy_get_type ())

MoatPolicy *moat_policy_parse           (const char  *name,
                                         const char  *text,
                                         gssize       length,
                                         GError     **error);
MoatPolicy *moat_policy_load_file       (const char  *path,
                                         GError     **error);
MoatPolicy *moat_policy_ref             (MoatPolicy  *self);
void        moat_policy_unref           (MoatPolicy  *self);

const char *moat_policy_get_name        (MoatPolicy  *self);
guint       moat_policy_get_n_rules     (MoatPolicy  *self);
const MoatPolicyRule *moat_policy_get_rule (MoatPolicy *self,
                                            guint       index);
const MoatPolicyRule *moat_policy_match (MoatPolicy  *self,
                                         const char  *threat,
                                         MoatSeverity severity);
const char *moat_policy_get_vpn         (MoatPolicy  *self);
guint       moat_policy_get_vpn_timeout (MoatPolicy  *self);
const char *moat_policy_get_gateway     (MoatPolicy  *self);
const char * const *moat_policy_get_protected_hosts (MoatPolicy *self);
const MoatPolicyCadence *moat_policy_get_remind (MoatPolicy *self);
const char * const *moat_policy_get_remind_checks (MoatPolicy *self);
MoatSeverity moat_policy_get_remind_severity (MoatPolicy *self);
const char *moat_policy_get_email       (MoatPolicy  *self);
const char * const *moat_policy_get_email_checks (MoatPolicy *self);
MoatSeverity moat_policy_get_email_severity (MoatPolicy *self);
char       *moat_policy_to_string       (MoatPolicy  *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MoatPolicy, moat_policy_unref)

G_END_DECLS
