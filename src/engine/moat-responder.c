/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-engine"

#include "config.h"

#include "moat-responder.h"

#include "moat-error.h"
#include "moat-host.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>

/*
 * Each active threat is an incident. The policy's first matching rule gives
 * it chains of actions; each chain tries its actions in order until one
 * works. Actions that hold (the VPN, the protected-resources wall, the
 * gateway route, a cut-off host) are shared: they stay while any incident
 * holds them and are undone when the last one lets go. When every chain of
 * an incident has settled, the user gets one notification that says what
 * was found and what Moat did about it.
 *
 * The VPN is the one action that outlives moatd: the name of a VPN Moat
 * raised is kept in MOAT_RESPONDER_STATE_FILENAME, and on the next start a
 * VPN nobody needs any more is taken down.
 */

typedef struct {
  MoatAction         actions[MOAT_POLICY_MAX_CHAIN_LENGTH];
  guint              n_actions;
  guint              current;
  MoatResponseState  state;
  char              *reason;        /* the last failure, for people */
} Chain;

typedef struct {
  MoatResponder *responder;       /* unowned */
  char          *threat;
  char          *subject;
  MoatSeverity   severity;
  guint          rule_line;        /* 0: no rule applies */
  Chain          chains[MOAT_POLICY_MAX_CHAINS];
  guint          n_chains;
  gboolean       notify_wanted;
  gboolean       settled;
  GPtrArray     *story;            /* char *: what happened, for the notification */
  GCancellable  *cancellable;
  guint          serial;           /* changes when the response starts afresh */
} Incident;

/* A call to the network for one incident's chain. The incident may be gone
 * (or restarted) when it completes, so it is looked up again by key. */
typedef struct {
  MoatResponder *self;             /* owned */
  char          *key;
  guint          serial;
  guint          chain;
} OpData;

typedef enum {
  VPN_OFF,
  VPN_STARTING,
  VPN_UP,
  VPN_STOPPING,
} VpnState;

struct _MoatResponder
{
  GObject             parent_instance;

  MoatNetwork        *network;
  MoatResponderHooks  hooks;
  MoatPolicy         *policy;
  char               *state_path;
  GCancellable       *cancellable;

  GHashTable         *incidents;     /* "threat\nsubject" → Incident */

  VpnState            vpn_state;
  char               *vpn_name;      /* the VPN Moat raised or is raising */
  gboolean            vpn_from_restart;  /* raised before moatd restarted */
  gboolean            state_loading;     /* start () reads the state file */
  gboolean            state_started;

  /* What is applied now, to call the hooks only on change. */
  gboolean            protected_applied;
  char               *blocked_applied;   /* hosts joined by "\n" */
  char               *gateway_applied;

  gboolean            state_write_in_flight;
  gboolean            state_dirty;
  guint               pending_ops;       /* VPN and Wi-Fi calls in flight */
  guint               next_serial;
};

G_DEFINE_FINAL_TYPE (MoatResponder, moat_responder, G_TYPE_OBJECT)

enum {
  SIGNAL_RESPONSES_CHANGED,
  SIGNAL_IDLE,
  SIGNAL_VPN_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void chain_run (Incident *incident, guint c);

/* Whether a VPN Moat raised carries the traffic (or is coming up or going). */
static void
set_vpn_state (MoatResponder *self, VpnState state)
{
  gboolean was = self->vpn_state != VPN_OFF;

  self->vpn_state = state;
  if (was != (state != VPN_OFF))
    g_signal_emit (self, signals[SIGNAL_VPN_CHANGED], 0, state != VPN_OFF);
}
static void apply (MoatResponder *self);

const char *
moat_response_state_to_string (MoatResponseState state)
{
  switch (state)
    {
    case MOAT_RESPONSE_TRYING:
      return "trying";
    case MOAT_RESPONSE_IN_EFFECT:
      return "in-effect";
    case MOAT_RESPONSE_DONE:
      return "done";
    case MOAT_RESPONSE_FAILED:
    default:
      return "failed";
    }
}

void
moat_response_free (MoatResponse *response)
{
  if (response == NULL)
    return;
  g_free (response->threat);
  g_free (response->subject);
  g_free (response->reason);
  g_free (response);
}

static void
incident_free (Incident *incident)
{
  g_cancellable_cancel (incident->cancellable);
  g_clear_object (&incident->cancellable);
  for (guint c = 0; c < incident->n_chains; c++)
    g_free (incident->chains[c].reason);
  g_ptr_array_unref (incident->story);
  g_free (incident->threat);
  g_free (incident->subject);
  g_free (incident);
}

static char *
incident_key (const char *threat, const char *subject)
{
  return g_strconcat (threat, "\n", subject, NULL);
}

/* ---- events and the notification ---- */

static const char *
action_display_name (MoatAction action)
{
  return moat_policy_action_get_display_name (moat_action_to_string (action));
}

static void
record (MoatResponder *self,
        Incident      *incident,
        MoatAction     action,
        const char    *what,
        const char    *reason)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *detail = NULL;
  g_autoptr(MoatEvent) event = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "action");
  json_builder_add_string_value (builder, moat_action_to_string (action));
  if (incident != NULL && incident->rule_line > 0)
    {
      json_builder_set_member_name (builder, "rule");
      json_builder_add_int_value (builder, incident->rule_line);
    }
  if (self->policy != NULL)
    {
      json_builder_set_member_name (builder, "policy");
      json_builder_add_string_value (builder, moat_policy_get_name (self->policy));
    }
  if (action == MOAT_ACTION_VPN_ON_DEMAND && self->vpn_name != NULL)
    {
      json_builder_set_member_name (builder, "vpn");
      json_builder_add_string_value (builder, self->vpn_name);
    }
  if (reason != NULL)
    {
      json_builder_set_member_name (builder, "reason");
      json_builder_add_string_value (builder, reason);
    }
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  detail = json_generator_to_data (generator, NULL);

  if (incident != NULL)
    event = moat_event_new (MOAT_EVENT_SOURCE_ENGINE, incident->threat, incident->severity,
                            incident->subject, what, detail);
  else
    event = moat_event_new (MOAT_EVENT_SOURCE_ENGINE, "moat.response_restored",
                            MOAT_SEVERITY_INFO, self->vpn_name != NULL ? self->vpn_name : "",
                            what, detail);
  g_info ("%s %s for %s on “%s”%s%s", what, moat_action_to_string (action),
          event->threat, event->subject, reason != NULL ? ": " : "", reason != NULL ? reason : "");
  if (self->hooks.record != NULL)
    self->hooks.record (event, self->hooks.user_data);
}

/* One sentence on what an action did, for the incident's notification. */
static char *
story_taken (MoatResponder *self, Incident *incident, MoatAction action)
{
  switch (action)
    {
    case MOAT_ACTION_VPN_ON_DEMAND:
      return g_strdup_printf (_("Moat connected the VPN “%s” until the network is safe."),
                              self->vpn_name != NULL ? self->vpn_name : "");
    case MOAT_ACTION_BLOCK_PROTECTED_RESOURCES:
      return g_strdup (_("Your organization’s resources are blocked until the network is safe."));
    case MOAT_ACTION_ROUTE_VIA_GATEWAY:
      return g_strdup (_("Web traffic goes through your organization’s gateway until the network "
                         "is safe."));
    case MOAT_ACTION_DISCONNECT_WIFI:
      return g_strdup (_("Moat disconnected this computer from the Wi-Fi network."));
    case MOAT_ACTION_DISABLE_VPN:
      return g_strdup_printf (_("Moat turned off the VPN “%s”."), incident->subject);
    case MOAT_ACTION_BLOCK_HOST:
      return g_strdup_printf (_("Moat cut off %s."), incident->subject);
    case MOAT_ACTION_NOTIFY:
    case MOAT_ACTION_LAST:
    default:
      return NULL;
    }
}

static void
incident_check_settled (Incident *incident)
{
  MoatResponder *self = incident->responder;
  g_autoptr(GString) body = NULL;
  gboolean acted = FALSE;
  g_autofree char *title = NULL;

  if (incident->settled)
    return;
  for (guint c = 0; c < incident->n_chains; c++)
    if (incident->chains[c].state == MOAT_RESPONSE_TRYING)
      return;
  incident->settled = TRUE;

  /* The user always learns what Moat did; a rule of only "notify" asks for
   * the telling alone. */
  for (guint c = 0; c < incident->n_chains; c++)
    for (guint a = 0; a <= incident->chains[c].current && a < incident->chains[c].n_actions; a++)
      acted = acted || incident->chains[c].actions[a] != MOAT_ACTION_NOTIFY;
  if (!incident->notify_wanted && !acted)
    return;
  if (self->hooks.notify == NULL)
    return;

  /* TRANSLATORS: %s is a threat such as "TLS interception" */
  title = g_strdup_printf (_("%s detected"), moat_threat_get_display_name (incident->threat));
  body = g_string_new (NULL);
  if (incident->subject[0] != '\0')
    /* TRANSLATORS: %s is what the threat concerns: a network, a host */
    g_string_append_printf (body, _("On %s."), incident->subject);
  for (guint i = 0; i < incident->story->len; i++)
    {
      if (body->len > 0)
        g_string_append_c (body, ' ');
      g_string_append (body, g_ptr_array_index (incident->story, i));
    }
  if (!acted)
    {
      if (body->len > 0)
        g_string_append_c (body, ' ');
      g_string_append (body, _("Be careful with what you do on this network."));
    }
  self->hooks.notify (title, body->str, incident->severity, self->hooks.user_data);
}

/* ---- the shared holds ---- */

static gboolean
anyone_holds (MoatResponder *self, MoatAction action, gboolean or_trying)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->incidents);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Incident *incident = value;

      for (guint c = 0; c < incident->n_chains; c++)
        {
          Chain *chain = &incident->chains[c];

          if (chain->current < chain->n_actions && chain->actions[chain->current] == action &&
              (chain->state == MOAT_RESPONSE_IN_EFFECT ||
               (or_trying && chain->state == MOAT_RESPONSE_TRYING)))
            return TRUE;
        }
    }
  return FALSE;
}

static void write_state (MoatResponder *self);

static void
save_state_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(MoatResponder) self = user_data;
  g_autoptr(GError) error = NULL;

  self->state_write_in_flight = FALSE;
  if (!g_file_replace_contents_finish (G_FILE (object), result, NULL, &error))
    {
      if (g_cancellable_is_cancelled (self->cancellable))
        return;
      g_warning ("Cannot save which VPN Moat raised to %s: %s", self->state_path,
                 error->message);
    }
  if (self->state_dirty)
    write_state (self);
  else if (moat_responder_is_idle (self))
    g_signal_emit (self, signals[SIGNAL_IDLE], 0);
}

static void
write_state (MoatResponder *self)
{
  g_autoptr(GFile) file = g_file_new_for_path (self->state_path);
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GBytes) bytes = NULL;
  char *text;

  self->state_dirty = FALSE;
  self->state_write_in_flight = TRUE;
  json_builder_begin_object (builder);
  if (self->vpn_name != NULL && self->vpn_state != VPN_OFF)
    {
      json_builder_set_member_name (builder, "vpn");
      json_builder_add_string_value (builder, self->vpn_name);
    }
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  text = json_generator_to_data (generator, NULL);
  bytes = g_bytes_new_take (text, strlen (text));
  g_file_replace_contents_bytes_async (file, bytes, NULL, FALSE, G_FILE_CREATE_PRIVATE,
                                       self->cancellable, save_state_cb, g_object_ref (self));
}

/* Records off the main loop which VPN Moat has up, so that a restart can
 * take it down when nothing needs it any more. */
static void
save_state (MoatResponder *self)
{
  if (self->state_path == NULL)
    return;
  /* Not before the old file was read: a file being created is not written
   * atomically, and reading it half-written would lose what it said. */
  if (self->state_write_in_flight || !self->state_started)
    self->state_dirty = TRUE;
  else
    write_state (self);
}

static void vpn_update (MoatResponder *self);

static void
vpn_deactivated_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(MoatResponder) self = user_data;
  g_autoptr(GError) error = NULL;

  self->pending_ops--;
  if (g_cancellable_is_cancelled (self->cancellable))
    return;
  if (!moat_network_deactivate_vpn_finish (MOAT_NETWORK (object), result, &error))
    {
      record (self, NULL, MOAT_ACTION_VPN_ON_DEMAND, "action-failed", error->message);
      g_warning ("Cannot take the VPN “%s” down: %s", self->vpn_name, error->message);
    }
  else if (self->vpn_from_restart)
    {
      record (self, NULL, MOAT_ACTION_VPN_ON_DEMAND, "action-reverted",
              _("Moat restarted and no threat needs the VPN any more"));
    }
  self->vpn_from_restart = FALSE;
  set_vpn_state (self, VPN_OFF);
  g_clear_pointer (&self->vpn_name, g_free);
  save_state (self);
  vpn_update (self);
  g_signal_emit (self, signals[SIGNAL_RESPONSES_CHANGED], 0);
  if (moat_responder_is_idle (self))
    g_signal_emit (self, signals[SIGNAL_IDLE], 0);
}

static void
vpn_activated_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(MoatResponder) self = user_data;
  g_autoptr(GError) error = NULL;
  GHashTableIter iter;
  gpointer value;
  gboolean up;

  self->pending_ops--;
  if (g_cancellable_is_cancelled (self->cancellable))
    return;
  up = moat_network_activate_vpn_finish (MOAT_NETWORK (object), result, &error);
  set_vpn_state (self, up ? VPN_UP : VPN_OFF);
  if (up)
    save_state (self);

  /* Every chain that waited for the VPN learns how it went. */
  g_hash_table_iter_init (&iter, self->incidents);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Incident *incident = value;

      for (guint c = 0; c < incident->n_chains; c++)
        {
          Chain *chain = &incident->chains[c];

          if (chain->state != MOAT_RESPONSE_TRYING ||
              chain->actions[chain->current] != MOAT_ACTION_VPN_ON_DEMAND)
            continue;
          if (up)
            {
              chain->state = MOAT_RESPONSE_IN_EFFECT;
              record (self, incident, MOAT_ACTION_VPN_ON_DEMAND, "action-taken", NULL);
              g_ptr_array_add (incident->story,
                               story_taken (self, incident, MOAT_ACTION_VPN_ON_DEMAND));
            }
          else
            {
              g_free (chain->reason);
              chain->reason = g_strdup (error->message);
              record (self, incident, MOAT_ACTION_VPN_ON_DEMAND, "action-failed", chain->reason);
              g_ptr_array_add (incident->story,
                               g_strdup_printf (_("The VPN could not connect (%s)."),
                                                chain->reason));
              chain->current++;
              chain_run (incident, c);
            }
        }
      incident_check_settled (incident);
    }
  if (!up)
    g_clear_pointer (&self->vpn_name, g_free);
  vpn_update (self);
  apply (self);
}

/* Brings the VPN up while a chain wants it and down when none does. */
static void
vpn_update (MoatResponder *self)
{
  gboolean wanted = anyone_holds (self, MOAT_ACTION_VPN_ON_DEMAND, TRUE);
  const char *name = self->policy != NULL ? moat_policy_get_vpn (self->policy) : NULL;

  if (self->vpn_state == VPN_STARTING || self->vpn_state == VPN_STOPPING)
    return;   /* decided again when the call completes */

  if (wanted && self->vpn_state == VPN_OFF && name != NULL)
    {
      set_vpn_state (self, VPN_STARTING);
      g_free (self->vpn_name);
      self->vpn_name = g_strdup (name);
      self->pending_ops++;
      moat_network_activate_vpn_async (self->network, name,
                                       moat_policy_get_vpn_timeout (self->policy),
                                       self->cancellable, vpn_activated_cb, g_object_ref (self));
    }
  else if (!wanted && self->vpn_state == VPN_UP && self->state_started)
    {
      set_vpn_state (self, VPN_STOPPING);
      self->pending_ops++;
      moat_network_deactivate_vpn_async (self->network, self->vpn_name, self->cancellable,
                                         vpn_deactivated_cb, g_object_ref (self));
    }
}

static int
compare_str (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const char * const *) a, *(const char * const *) b);
}

/* Hands the holds to the proxy when they change. */
static void
apply (MoatResponder *self)
{
  gboolean protect = anyone_holds (self, MOAT_ACTION_BLOCK_PROTECTED_RESOURCES, FALSE);
  gboolean gateway = anyone_holds (self, MOAT_ACTION_ROUTE_VIA_GATEWAY, FALSE);
  const char *gateway_value = gateway && self->policy != NULL ?
                              moat_policy_get_gateway (self->policy) : NULL;
  g_autoptr(GPtrArray) blocked = g_ptr_array_new ();
  g_autofree char *blocked_joined = NULL;
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->incidents);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Incident *incident = value;

      for (guint c = 0; c < incident->n_chains; c++)
        {
          Chain *chain = &incident->chains[c];

          if (chain->state == MOAT_RESPONSE_IN_EFFECT &&
              chain->actions[chain->current] == MOAT_ACTION_BLOCK_HOST)
            g_ptr_array_add (blocked, incident->subject);
        }
    }
  g_ptr_array_sort (blocked, compare_str);
  g_ptr_array_add (blocked, NULL);
  blocked_joined = g_strjoinv ("\n", (char **) blocked->pdata);

  if (protect != self->protected_applied && self->hooks.set_protected != NULL)
    self->hooks.set_protected (protect, self->hooks.user_data);
  self->protected_applied = protect;

  if (g_strcmp0 (blocked_joined, self->blocked_applied) != 0 &&
      self->hooks.set_blocked_hosts != NULL)
    self->hooks.set_blocked_hosts (blocked->len > 1 ? (const char * const *) blocked->pdata : NULL,
                                   self->hooks.user_data);
  g_free (self->blocked_applied);
  self->blocked_applied = g_steal_pointer (&blocked_joined);

  if (g_strcmp0 (gateway_value, self->gateway_applied) != 0 && self->hooks.set_gateway != NULL)
    self->hooks.set_gateway (gateway_value, self->hooks.user_data);
  g_free (self->gateway_applied);
  self->gateway_applied = g_strdup (gateway_value);

  g_signal_emit (self, signals[SIGNAL_RESPONSES_CHANGED], 0);
  if (moat_responder_is_idle (self))
    g_signal_emit (self, signals[SIGNAL_IDLE], 0);
}

/* ---- running a chain ---- */

static void
op_data_free (OpData *op)
{
  g_object_unref (op->self);
  g_free (op->key);
  g_free (op);
}

static OpData *
op_data_new (MoatResponder *self, const char *key, Incident *incident, guint chain)
{
  OpData *op = g_new0 (OpData, 1);

  op->self = g_object_ref (self);
  op->key = g_strdup (key);
  op->serial = incident->serial;
  op->chain = chain;
  return op;
}

/* A one-off network action (leave the Wi-Fi, turn off a VPN) completed. */
static void
one_off_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  OpData *op = user_data;
  MoatResponder *self = op->self;
  g_autoptr(GError) error = NULL;
  Incident *incident;
  Chain *chain;
  MoatAction action;
  gboolean ok;
  guint c;

  self->pending_ops--;
  incident = self->incidents != NULL ? g_hash_table_lookup (self->incidents, op->key) : NULL;
  if (incident == NULL || incident->serial != op->serial)
    {
      op_data_free (op);
      return;   /* the incident is gone or started afresh */
    }
  c = op->chain;
  chain = &incident->chains[c];
  action = chain->actions[chain->current];
  if (action == MOAT_ACTION_DISCONNECT_WIFI)
    ok = moat_network_disconnect_wifi_finish (MOAT_NETWORK (object), result, &error);
  else
    ok = moat_network_deactivate_vpn_finish (MOAT_NETWORK (object), result, &error);
  op_data_free (op);

  if (ok)
    {
      chain->state = MOAT_RESPONSE_DONE;
      record (self, incident, action, "action-taken", NULL);
      g_ptr_array_add (incident->story, story_taken (self, incident, action));
    }
  else
    {
      g_free (chain->reason);
      chain->reason = g_strdup (error->message);
      record (self, incident, action, "action-failed", chain->reason);
      g_ptr_array_add (incident->story,
                       g_strdup_printf (_("%s: not possible, %s."),
                                        action_display_name (action), chain->reason));
      chain->current++;
      chain_run (incident, c);
      vpn_update (self);
    }
  incident_check_settled (incident);
  apply (self);
}

/* Why @action cannot be taken for @incident at all, or NULL. */
static char *
action_precondition (MoatResponder *self, Incident *incident, MoatAction action)
{
  if (self->hooks.action_allowed != NULL && !self->hooks.action_allowed (action,
                                                                          self->hooks.user_data))
    return g_strdup (_("it is turned off in Moat’s preferences"));
  switch (action)
    {
    case MOAT_ACTION_VPN_ON_DEMAND:
      if (moat_policy_get_vpn (self->policy) == NULL)
        return g_strdup (_("the policy names no VPN connection (vpn = NAME)"));
      return NULL;
    case MOAT_ACTION_BLOCK_PROTECTED_RESOURCES:
      if (moat_policy_get_protected_hosts (self->policy)[0] == NULL &&
          (self->hooks.has_protected == NULL || !self->hooks.has_protected (self->hooks.user_data)))
        return g_strdup (_("there are no protected resources to block (add them with "
                           "protect = HOST in the policy or in Moat’s protected resources)"));
      return NULL;
    case MOAT_ACTION_ROUTE_VIA_GATEWAY:
      if (moat_policy_get_gateway (self->policy) == NULL)
        return g_strdup (_("the policy names no gateway (gateway = HOST:PORT)"));
      return NULL;
    case MOAT_ACTION_BLOCK_HOST:
      {
        g_autofree char *host = moat_host_normalize (incident->subject, -1, NULL, NULL);

        if (host == NULL)
          return g_strdup_printf (_("“%s” is not a host name"), incident->subject);
        return NULL;
      }
    case MOAT_ACTION_DISCONNECT_WIFI:
    case MOAT_ACTION_DISABLE_VPN:
    case MOAT_ACTION_NOTIFY:
    case MOAT_ACTION_LAST:
    default:
      return NULL;
    }
}

/* Tries the chain's actions from chain->current on, until one works or
 * waits for an answer. */
static void
chain_run (Incident *incident, guint c)
{
  MoatResponder *self = incident->responder;
  Chain *chain = &incident->chains[c];

  for (; chain->current < chain->n_actions; chain->current++)
    {
      MoatAction action = chain->actions[chain->current];
      g_autofree char *why_not = action_precondition (self, incident, action);

      if (why_not != NULL)
        {
          g_free (chain->reason);
          chain->reason = g_steal_pointer (&why_not);
          record (self, incident, action, "action-failed", chain->reason);
          g_ptr_array_add (incident->story,
                           /* TRANSLATORS: the first %s is an action such as "Connect the
                            * company VPN", the second why it could not be done */
                           g_strdup_printf (_("%s: not possible, %s."),
                                            action_display_name (action), chain->reason));
          continue;
        }

      switch (action)
        {
        case MOAT_ACTION_NOTIFY:
          incident->notify_wanted = TRUE;
          chain->state = MOAT_RESPONSE_DONE;
          return;
        case MOAT_ACTION_BLOCK_PROTECTED_RESOURCES:
        case MOAT_ACTION_ROUTE_VIA_GATEWAY:
        case MOAT_ACTION_BLOCK_HOST:
          chain->state = MOAT_RESPONSE_IN_EFFECT;
          record (self, incident, action, "action-taken", NULL);
          g_ptr_array_add (incident->story, story_taken (self, incident, action));
          return;
        case MOAT_ACTION_VPN_ON_DEMAND:
          if (self->vpn_state == VPN_UP)
            {
              chain->state = MOAT_RESPONSE_IN_EFFECT;
              record (self, incident, action, "action-taken", NULL);
              g_ptr_array_add (incident->story, story_taken (self, incident, action));
              return;
            }
          /* vpn_update () starts it; vpn_activated_cb () moves the chain on. */
          chain->state = MOAT_RESPONSE_TRYING;
          return;
        case MOAT_ACTION_DISCONNECT_WIFI:
          {
            g_autofree char *key = incident_key (incident->threat, incident->subject);

            chain->state = MOAT_RESPONSE_TRYING;
            self->pending_ops++;
            moat_network_disconnect_wifi_async (self->network, NULL, incident->cancellable,
                                                one_off_cb, op_data_new (self, key, incident, c));
          }
          return;
        case MOAT_ACTION_DISABLE_VPN:
          {
            g_autofree char *key = incident_key (incident->threat, incident->subject);

            chain->state = MOAT_RESPONSE_TRYING;
            self->pending_ops++;
            moat_network_deactivate_vpn_async (self->network, incident->subject,
                                               incident->cancellable, one_off_cb,
                                               op_data_new (self, key, incident, c));
          }
          return;
        case MOAT_ACTION_LAST:
        default:
          break;
        }
    }

  /* Every action failed. */
  chain->current = chain->n_actions - 1;
  chain->state = MOAT_RESPONSE_FAILED;
}

static void
incident_start (MoatResponder *self, Incident *incident)
{
  const MoatPolicyRule *rule = NULL;

  if (self->policy != NULL)
    rule = moat_policy_match (self->policy, incident->threat, incident->severity);
  incident->rule_line = rule != NULL ? rule->line : 0;
  incident->n_chains = rule != NULL ? rule->n_chains : 0;
  for (guint c = 0; c < incident->n_chains; c++)
    {
      Chain *chain = &incident->chains[c];

      memcpy (chain->actions, rule->chains[c].actions, sizeof chain->actions);
      chain->n_actions = rule->chains[c].n_actions;
      chain->current = 0;
      chain->state = MOAT_RESPONSE_TRYING;
      chain_run (incident, c);
    }
  vpn_update (self);
  incident_check_settled (incident);
  apply (self);
}

/* Undoes what the incident holds. The shared holds themselves go when
 * apply () and vpn_update () see nobody holds them any more. */
static void
incident_revert (MoatResponder *self, Incident *incident, const char *reason)
{
  g_cancellable_cancel (incident->cancellable);
  incident->serial = ++self->next_serial;
  for (guint c = 0; c < incident->n_chains; c++)
    {
      Chain *chain = &incident->chains[c];

      if (chain->state == MOAT_RESPONSE_IN_EFFECT)
        record (self, incident, chain->actions[chain->current], "action-reverted", reason);
      chain->state = MOAT_RESPONSE_DONE;
    }
}

/* Undoes an incident's response and runs it again from the start. */
static void
incident_restart (MoatResponder *self, Incident *incident, const char *reason)
{
  incident_revert (self, incident, reason);
  g_clear_object (&incident->cancellable);
  incident->cancellable = g_cancellable_new ();
  for (guint c = 0; c < incident->n_chains; c++)
    g_clear_pointer (&incident->chains[c].reason, g_free);
  incident->settled = FALSE;
  incident->notify_wanted = FALSE;
  g_ptr_array_set_size (incident->story, 0);
  incident_start (self, incident);
}

/* ---- restart ---- */

static void
load_state_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(MoatResponder) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree char *contents = NULL;
  gsize length = 0;
  JsonNode *root;

  if (g_cancellable_is_cancelled (self->cancellable))
    return;
  self->state_loading = FALSE;
  self->state_started = TRUE;
  if (self->state_dirty && !self->state_write_in_flight)
    write_state (self);
  if (!g_file_load_contents_finish (G_FILE (object), result, &contents, &length, NULL, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        g_warning ("Cannot read %s: %s", self->state_path, error->message);
      vpn_update (self);
      return;
    }
  if (!json_parser_load_from_data (parser, contents, length, &error) ||
      (root = json_parser_get_root (parser)) == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_warning ("Ignoring %s: it is not a JSON object", self->state_path);
      vpn_update (self);
      return;
    }
  {
    const char *vpn = json_object_get_string_member_with_default (json_node_get_object (root),
                                                                  "vpn", NULL);

    if (vpn != NULL && vpn[0] != '\0' && self->vpn_state == VPN_OFF)
      {
        /* A VPN raised before a restart: nobody needs it unless a threat
         * already came back, in which case it stays. */
        g_info ("The VPN “%s” was raised by Moat before it restarted", vpn);
        self->vpn_name = g_strdup (vpn);
        set_vpn_state (self, VPN_UP);
        self->vpn_from_restart = TRUE;
      }
  }
  vpn_update (self);
  apply (self);
}

/**
 * moat_responder_start:
 *
 * Reads what an earlier moatd left in force and undoes what no threat needs
 * any more. Before it has done so, the VPN is never taken down.
 */
void
moat_responder_start (MoatResponder *self)
{
  g_autoptr(GFile) file = NULL;

  g_return_if_fail (MOAT_IS_RESPONDER (self));

  if (self->state_path == NULL)
    {
      self->state_started = TRUE;
      return;
    }
  file = g_file_new_for_path (self->state_path);
  self->state_loading = TRUE;
  g_file_load_contents_async (file, self->cancellable, load_state_cb, g_object_ref (self));
}

/* ---- public ---- */

static void
on_vpn_down_cb (MoatNetwork   *network,
                const char    *name,
                MoatResponder *self)
{
  GHashTableIter iter;
  gpointer value;
  g_autofree char *reason = NULL;

  if (self->vpn_state != VPN_UP || g_strcmp0 (name, self->vpn_name) != 0)
    return;
  set_vpn_state (self, VPN_OFF);
  save_state (self);
  reason = g_strdup (_("the VPN went down"));
  g_hash_table_iter_init (&iter, self->incidents);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Incident *incident = value;

      for (guint c = 0; c < incident->n_chains; c++)
        {
          Chain *chain = &incident->chains[c];

          if (chain->state != MOAT_RESPONSE_IN_EFFECT ||
              chain->actions[chain->current] != MOAT_ACTION_VPN_ON_DEMAND)
            continue;
          g_free (chain->reason);
          chain->reason = g_strdup (reason);
          record (self, incident, MOAT_ACTION_VPN_ON_DEMAND, "action-failed", reason);
          chain->current++;
          incident->settled = FALSE;
          chain_run (incident, c);
          incident_check_settled (incident);
        }
    }
  g_clear_pointer (&self->vpn_name, g_free);
  apply (self);
}

static void
moat_responder_dispose (GObject *object)
{
  MoatResponder *self = MOAT_RESPONDER (object);

  g_cancellable_cancel (self->cancellable);
  if (self->network != NULL)
    g_signal_handlers_disconnect_by_data (self->network, self);
  g_clear_pointer (&self->incidents, g_hash_table_unref);
  g_clear_object (&self->network);
  g_clear_pointer (&self->policy, moat_policy_unref);

  G_OBJECT_CLASS (moat_responder_parent_class)->dispose (object);
}

static void
moat_responder_finalize (GObject *object)
{
  MoatResponder *self = MOAT_RESPONDER (object);

  g_clear_object (&self->cancellable);
  g_free (self->state_path);
  g_free (self->vpn_name);
  g_free (self->blocked_applied);
  g_free (self->gateway_applied);

  G_OBJECT_CLASS (moat_responder_parent_class)->finalize (object);
}

static void
moat_responder_class_init (MoatResponderClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = moat_responder_dispose;
  object_class->finalize = moat_responder_finalize;

  signals[SIGNAL_RESPONSES_CHANGED] =
    g_signal_new ("responses-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_IDLE] =
    g_signal_new ("idle", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_VPN_CHANGED] =
    g_signal_new ("vpn-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_BOOLEAN);
}

static void
moat_responder_init (MoatResponder *self)
{
  self->cancellable = g_cancellable_new ();
  self->incidents = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                           (GDestroyNotify) incident_free);
}

/**
 * moat_responder_new:
 * @network: (nullable): how to reach the VPN and Wi-Fi; %NULL: a network
 *   that can do nothing, so those actions fail and their fallbacks run
 * @hooks: how to act on the rest of Moat (copied)
 * @state_dir: (nullable): where to keep MOAT_RESPONDER_STATE_FILENAME
 */
MoatResponder *
moat_responder_new (MoatNetwork              *network,
                    const MoatResponderHooks *hooks,
                    const char               *state_dir)
{
  MoatResponder *self;

  g_return_val_if_fail (network == NULL || MOAT_IS_NETWORK (network), NULL);
  g_return_val_if_fail (hooks != NULL, NULL);

  self = g_object_new (MOAT_TYPE_RESPONDER, NULL);
  self->network = network != NULL ? g_object_ref (network) : g_object_new (MOAT_TYPE_NETWORK, NULL);
  self->hooks = *hooks;
  if (state_dir != NULL)
    self->state_path = g_build_filename (state_dir, MOAT_RESPONDER_STATE_FILENAME, NULL);
  g_signal_connect_object (self->network, "vpn-down", G_CALLBACK (on_vpn_down_cb), self, 0);
  return self;
}

/**
 * moat_responder_set_policy:
 *
 * The policy in force. Incidents whose rule changed start their response
 * afresh under the new one.
 */
void
moat_responder_set_policy (MoatResponder *self,
                           MoatPolicy    *policy)
{
  g_autoptr(GPtrArray) restart = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer value;

  g_return_if_fail (MOAT_IS_RESPONDER (self));
  g_return_if_fail (policy != NULL);

  if (self->policy == policy)
    return;
  g_clear_pointer (&self->policy, moat_policy_unref);
  self->policy = moat_policy_ref (policy);

  g_hash_table_iter_init (&iter, self->incidents);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Incident *incident = value;
      const MoatPolicyRule *rule = moat_policy_match (policy, incident->threat, incident->severity);
      gboolean same = rule != NULL && rule->n_chains == incident->n_chains;

      for (guint c = 0; same && c < incident->n_chains; c++)
        same = rule->chains[c].n_actions == incident->chains[c].n_actions &&
               memcmp (rule->chains[c].actions, incident->chains[c].actions,
                       sizeof (MoatAction) * rule->chains[c].n_actions) == 0;
      if (same)
        incident->rule_line = rule->line;
      else if (rule != NULL || incident->n_chains > 0)
        g_ptr_array_add (restart, incident);
    }
  for (guint i = 0; i < restart->len; i++)
    incident_restart (self, g_ptr_array_index (restart, i), _("the policy changed"));
  vpn_update (self);
  apply (self);
}

/**
 * moat_responder_reconsider:
 * @action: an action the user just allowed or forbade
 *
 * Starts afresh the responses whose rule has @action in a chain, so that a
 * switch the user flips takes effect at once.
 */
void
moat_responder_reconsider (MoatResponder *self,
                           MoatAction     action)
{
  g_autoptr(GPtrArray) restart = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer value;

  g_return_if_fail (MOAT_IS_RESPONDER (self));

  g_hash_table_iter_init (&iter, self->incidents);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Incident *incident = value;
      gboolean uses = FALSE;

      for (guint c = 0; c < incident->n_chains; c++)
        for (guint a = 0; a < incident->chains[c].n_actions; a++)
          uses = uses || incident->chains[c].actions[a] == action;
      if (uses)
        g_ptr_array_add (restart, incident);
    }
  for (guint i = 0; i < restart->len; i++)
    incident_restart (self, g_ptr_array_index (restart, i), _("Moat’s preferences changed"));
  vpn_update (self);
  apply (self);
}

/**
 * moat_responder_threat_raised:
 *
 * A threat is active (new, or its severity changed): its response starts.
 * A known threat whose rule stays the same keeps its response.
 */
void
moat_responder_threat_raised (MoatResponder *self,
                              const char    *threat,
                              MoatSeverity   severity,
                              const char    *subject)
{
  g_autofree char *key = NULL;
  Incident *incident;

  g_return_if_fail (MOAT_IS_RESPONDER (self));
  g_return_if_fail (threat != NULL && subject != NULL);

  key = incident_key (threat, subject);
  incident = g_hash_table_lookup (self->incidents, key);
  if (incident != NULL)
    {
      const MoatPolicyRule *rule = self->policy != NULL ?
                                   moat_policy_match (self->policy, threat, severity) : NULL;

      incident->severity = severity;
      if ((rule != NULL ? rule->line : 0) == incident->rule_line)
        return;
      incident_revert (self, incident, _("the threat’s severity changed"));
      g_hash_table_remove (self->incidents, key);
    }

  incident = g_new0 (Incident, 1);
  incident->responder = self;
  incident->threat = g_strdup (threat);
  incident->subject = g_strdup (subject);
  incident->severity = severity;
  incident->story = g_ptr_array_new_with_free_func (g_free);
  incident->cancellable = g_cancellable_new ();
  g_hash_table_insert (self->incidents, g_steal_pointer (&key), incident);
  incident_start (self, incident);
}

/**
 * moat_responder_threat_cleared:
 *
 * The threat is gone: what its response holds is undone.
 */
void
moat_responder_threat_cleared (MoatResponder *self,
                               const char    *threat,
                               const char    *subject)
{
  g_autofree char *key = NULL;
  Incident *incident;

  g_return_if_fail (MOAT_IS_RESPONDER (self));

  key = incident_key (threat, subject);
  incident = g_hash_table_lookup (self->incidents, key);
  if (incident == NULL)
    return;
  incident_revert (self, incident, _("the threat cleared"));
  g_hash_table_remove (self->incidents, key);
  vpn_update (self);
  apply (self);
}

/**
 * moat_responder_get_responses:
 *
 * Returns: (transfer container) (element-type MoatResponse): every chain of
 *   every active threat's response, by threat and subject
 */
GPtrArray *
moat_responder_get_responses (MoatResponder *self)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) moat_response_free);
  GHashTableIter iter;
  gpointer value;

  g_return_val_if_fail (MOAT_IS_RESPONDER (self), out);

  g_hash_table_iter_init (&iter, self->incidents);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Incident *incident = value;

      for (guint c = 0; c < incident->n_chains; c++)
        {
          Chain *chain = &incident->chains[c];
          MoatResponse *r = g_new0 (MoatResponse, 1);

          r->threat = g_strdup (incident->threat);
          r->subject = g_strdup (incident->subject);
          r->action = chain->actions[MIN (chain->current, chain->n_actions - 1)];
          r->state = chain->state;
          r->reason = g_strdup (chain->reason);
          g_ptr_array_add (out, r);
        }
    }
  return out;
}

/* Whether nothing is in flight: no chain trying, no VPN call pending, the
 * state file written. */
gboolean
moat_responder_is_idle (MoatResponder *self)
{
  GHashTableIter iter;
  gpointer value;

  g_return_val_if_fail (MOAT_IS_RESPONDER (self), TRUE);

  if (self->pending_ops > 0 || self->vpn_state == VPN_STARTING ||
      self->vpn_state == VPN_STOPPING || self->state_write_in_flight || self->state_loading)
    return FALSE;
  g_hash_table_iter_init (&iter, self->incidents);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (!((Incident *) value)->settled)
      return FALSE;
  return TRUE;
}
