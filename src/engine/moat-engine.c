/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-engine"

#include "config.h"

#include "moat-engine.h"

#include "moat-error.h"
#include "moat-lists.h"
#include "moat-nm-network.h"
#include "moat-notifier.h"
#include "moat-responder.h"
#include "moat-proxy.h"
#include "moat-system-proxy.h"
#include "moat-store.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "moat-host.h"

struct _MoatEngine
{
  GObject              parent_instance;

  /* owned */
  char                *data_dir;
  char                *store_path;
  GSettings           *settings;
  MoatStore           *store;
  MoatLists           *lists;
  MoatPolicyManager   *policy;
  MoatResponder       *responder;
  MoatDetectors       *detectors;
  MoatDeviceManager   *devices;
  MoatHealthManager   *health;
  MoatNetwork         *network;
  gboolean             network_checks;     /* check by itself, not only when asked */
  gboolean             walled;             /* the protected resources are walled off */
  GStrv                walled_protected;   /* what the proxy walls off now */
  GStrv                walled_blocked;
  char                *gateway_override;   /* route_via_gateway: "host:port" */
  MoatProxy           *proxy;
  MoatSystemProxy     *system_proxy;
  MoatNotifier        *notifier;
  GStrv                extra_allow_local;  /* moatd --allow-local-host */
  char                *proxy_error;       /* why the proxy does not run, or NULL */
  int                  proxy_port;        /* moatd --proxy-port, or -1 for the settings */
  GCancellable        *cancellable;
  GPtrArray           *added;            /* MoatEvent *: waiting for the next ::events-added */
  GArray              *active_threats;   /* MoatActiveThreat, pointing into threats */
  GPtrArray           *threats;          /* MoatThreat, in the order they were raised */
  char                *proxy_address;
  char                *protection_summary;

  guint                added_id;
  gint64               last_added_time;  /* monotonic µs of the last ::events-added */
  MoatProtectionState  protection_state;
  MoatRiskLevel        risk_level;
  MoatStoreState       last_store_state;
  gboolean             started;
  gboolean             shut_down;
  gboolean             system_proxy_ready;    /* crash recovery done */
  gboolean             system_proxy_busy;     /* an enable/disable runs */
  gboolean             system_proxy_again;    /* apply once more when it ends */
};

G_DEFINE_FINAL_TYPE (MoatEngine, moat_engine, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_DATA_DIR,
  PROP_SETTINGS,
  PROP_STORE_PATH,
  PROP_PROTECTION_STATE,
  PROP_PROTECTION_SUMMARY,
  PROP_RISK_LEVEL,
  PROP_PROXY_ADDRESS,
  PROP_STORE_STATE,
  PROP_STORE_MESSAGE,
  PROP_PROTECT_COMPUTER,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  SIGNAL_EVENTS_ADDED,
  SIGNAL_THREATS_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
apply_retention (MoatEngine *self)
{
  guint days = g_settings_get_uint (self->settings, "retention-days");
  guint max_events = g_settings_get_uint (self->settings, "retention-max-events");

  g_debug ("Retention: %u days, %u events", days, max_events);
  moat_store_set_retention (self->store, days, max_events);
  /* The store applies retention at its next prune; run one now so a lower
   * limit takes effect at once instead of in up to ten minutes. */
  if (moat_store_get_state (self->store) != MOAT_STORE_STATE_OPENING)
    moat_store_prune_async (self->store, NULL, NULL, NULL);
}

static void
set_protection (MoatEngine          *self,
                MoatProtectionState  state,
                const char          *summary)
{
  g_object_freeze_notify (G_OBJECT (self));
  if (self->protection_state != state)
    {
      g_info ("Protection state: %s (%s)", moat_protection_state_to_string (state), summary);
      self->protection_state = state;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PROTECTION_STATE]);
    }
  if (g_strcmp0 (self->protection_summary, summary) != 0)
    {
      g_free (self->protection_summary);
      self->protection_summary = g_strdup (summary);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PROTECTION_SUMMARY]);
    }
  g_object_thaw_notify (G_OBJECT (self));
}

/* What protects this computer, in one state and one honest sentence. */
static void
update_protection (MoatEngine *self)
{
  MoatStoreState store_state = moat_store_get_state (self->store);
  const char *store_message = moat_store_get_message (self->store);

  if (store_state == MOAT_STORE_STATE_DISK_FULL || store_state == MOAT_STORE_STATE_ERROR)
    {
      const char *summary = store_message != NULL && store_message[0] != '\0'
        ? store_message : _("Moat cannot write its event history.");

      set_protection (self, MOAT_PROTECTION_STATE_DEGRADED, summary);
    }
  else if (self->proxy_error != NULL)
    {
      set_protection (self, MOAT_PROTECTION_STATE_UNPROTECTED, self->proxy_error);
    }
  else if (self->proxy_address == NULL || self->proxy_address[0] == '\0')
    {
      set_protection (self, MOAT_PROTECTION_STATE_UNPROTECTED,
                      _("The filtering proxy is not running yet."));
    }
  else if (self->system_proxy == NULL || !moat_system_proxy_get_enabled (self->system_proxy))
    {
      /* The filter runs, but nothing says this computer's traffic goes
       * through it: be honest about that. */
      g_autofree char *summary =
        g_strdup_printf (_("Moat’s filter runs at %s, but this computer’s web traffic does not "
                           "go through it. Turn on “Protect this computer”."),
                         self->proxy_address);

      set_protection (self, MOAT_PROTECTION_STATE_UNPROTECTED, summary);
    }
  else
    {
      g_autofree char *summary =
        g_strdup_printf (_("Web traffic on this computer is filtered by Moat’s proxy at %s."),
                         self->proxy_address);

      set_protection (self, MOAT_PROTECTION_STATE_PROTECTED, summary);
    }
}

static void
update_risk_level (MoatEngine *self)
{
  MoatRiskLevel level = moat_engine_compute_risk_level ((const MoatActiveThreat *) self->active_threats->data,
                                                        self->active_threats->len);

  if (level != self->risk_level)
    {
      self->risk_level = level;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RISK_LEVEL]);
    }
}

static gboolean
emit_events_added_cb (gpointer user_data)
{
  MoatEngine *self = MOAT_ENGINE (user_data);
  g_autoptr(GPtrArray) events = g_steal_pointer (&self->added);

  self->added_id = 0;
  self->added = g_ptr_array_new_with_free_func ((GDestroyNotify) moat_event_unref);
  self->last_added_time = g_get_monotonic_time ();
  if (events->len > 0)
    g_signal_emit (self, signals[SIGNAL_EVENTS_ADDED], 0, events);
  return G_SOURCE_REMOVE;
}

/* Coalesces the store's commits: at most one ::events-added per interval. The
 * first batch after a quiet spell goes out at once (from the main loop), later
 * ones wait for the rest of the interval and go out together. */
static void
schedule_events_added (MoatEngine *self)
{
  gint64 interval = MOAT_ENGINE_EVENTS_ADDED_INTERVAL_MS * G_TIME_SPAN_MILLISECOND;
  gint64 elapsed;
  guint delay_ms = 0;

  if (self->added_id != 0 || self->shut_down)
    return;
  elapsed = g_get_monotonic_time () - self->last_added_time;
  if (self->last_added_time != 0 && elapsed < interval)
    delay_ms = (guint) ((interval - elapsed) / G_TIME_SPAN_MILLISECOND) + 1;
  self->added_id = g_timeout_add (delay_ms, emit_events_added_cb, self);
}

static void
on_store_events_committed_cb (MoatStore  *store,
                              GPtrArray  *events,
                              MoatEngine *self)
{
  for (guint i = 0; i < events->len; i++)
    g_ptr_array_add (self->added, moat_event_ref (g_ptr_array_index (events, i)));
  schedule_events_added (self);
}

static char *
build_recovered_detail (const char *moved_aside, const char *store_path)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "moved_aside");
  json_builder_add_string_value (builder, moved_aside);
  json_builder_set_member_name (builder, "store");
  json_builder_add_string_value (builder, store_path);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  return json_to_string (root, FALSE);
}

static void
on_store_recovered_cb (MoatStore  *store,
                       const char *moved_aside,
                       MoatEngine *self)
{
  g_autofree char *detail = build_recovered_detail (moved_aside, self->store_path);
  g_autoptr(MoatEvent) event = NULL;
  g_autoptr(GError) error = NULL;

  g_message ("The event store was damaged: moved it aside to %s and started a new one",
             moved_aside);
  event = moat_event_new (MOAT_EVENT_SOURCE_ENGINE, "moat.store_recovered",
                          MOAT_SEVERITY_MEDIUM, self->store_path, "moved_aside", detail);
  if (!moat_event_validate (event, &error))
    {
      g_warning ("Cannot record the store recovery: %s", error->message);
      return;
    }
  moat_store_add_event (self->store, event);
  /* The user is told even when they notify only about worse things. */
  moat_notifier_add_event (self->notifier, event, MOAT_NOTIFY_FLAGS_ALWAYS);
}

static void
on_store_state_changed_cb (MoatStore  *store,
                           GParamSpec *pspec,
                           MoatEngine *self)
{
  MoatStoreState state = moat_store_get_state (store);

  if (state != self->last_store_state)
    {
      if (state == MOAT_STORE_STATE_DISK_FULL || state == MOAT_STORE_STATE_ERROR)
        g_warning ("Event store %s: %s", moat_store_state_to_string (state),
                   moat_store_get_message (store));
      else if (state == MOAT_STORE_STATE_OK &&
               (self->last_store_state == MOAT_STORE_STATE_DISK_FULL ||
                self->last_store_state == MOAT_STORE_STATE_ERROR))
        g_message ("Event store is writable again");
      self->last_store_state = state;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STORE_STATE]);
    }
  update_protection (self);
}

static void
on_store_message_changed_cb (MoatStore  *store,
                             GParamSpec *pspec,
                             MoatEngine *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STORE_MESSAGE]);
  update_protection (self);
}

/* ---- Protect this computer ---- */

static void apply_protect (MoatEngine *self);

static char *
pac_url (MoatEngine *self)
{
  return g_strdup_printf ("http://%s/proxy.pac", self->proxy_address);
}

static void
system_proxy_done_cb (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  g_autoptr(MoatEngine) self = user_data;
  MoatSystemProxy *system_proxy = MOAT_SYSTEM_PROXY (object);
  g_autoptr(GError) error = NULL;
  gboolean enabling = g_async_result_is_tagged (result, moat_system_proxy_enable_async);
  gboolean ok;

  ok = enabling ? moat_system_proxy_enable_finish (system_proxy, result, &error)
                : moat_system_proxy_disable_finish (system_proxy, result, &error);
  self->system_proxy_busy = FALSE;
  if (!ok)
    {
      g_warning ("Cannot %s the desktop’s proxy settings: %s",
                 enabling ? "point" : "restore", error->message);
      /* The switch shows what is true: it goes back off when turning on failed. */
      if (enabling && !self->shut_down)
        g_settings_set_boolean (self->settings, "protect-computer", FALSE);
    }
  else
    g_info ("Desktop proxy settings %s", enabling ? "point at Moat" : "restored");
  if (self->system_proxy_again && !self->shut_down)
    {
      self->system_proxy_again = FALSE;
      apply_protect (self);
    }
}

/* Makes the desktop's proxy settings follow the protect-computer setting and
 * the proxy's address, one change at a time. */
static void
apply_protect (MoatEngine *self)
{
  gboolean want;
  g_autofree char *url = NULL;

  if (!self->system_proxy_ready || self->shut_down)
    return;
  if (self->system_proxy_busy)
    {
      self->system_proxy_again = TRUE;
      return;
    }
  want = g_settings_get_boolean (self->settings, "protect-computer") &&
         self->proxy_address[0] != '\0';
  if (want)
    {
      url = pac_url (self);
      if (moat_system_proxy_get_enabled (self->system_proxy) &&
          g_strcmp0 (moat_system_proxy_get_pac_url (self->system_proxy), url) == 0)
        return;
      self->system_proxy_busy = TRUE;
      moat_system_proxy_enable_async (self->system_proxy, url, self->cancellable,
                                      system_proxy_done_cb, g_object_ref (self));
    }
  else if (moat_system_proxy_get_enabled (self->system_proxy))
    {
      self->system_proxy_busy = TRUE;
      moat_system_proxy_disable_async (self->system_proxy, self->cancellable,
                                       system_proxy_done_cb, g_object_ref (self));
    }
}

/* Someone changed the desktop's proxy settings behind Moat's back: the
 * switch follows what is true. */
static void
on_system_proxy_enabled_cb (MoatSystemProxy *system_proxy,
                            GParamSpec      *pspec,
                            MoatEngine      *self)
{
  if (!moat_system_proxy_get_enabled (system_proxy) && !self->system_proxy_busy &&
      !self->shut_down && g_settings_get_boolean (self->settings, "protect-computer"))
    g_settings_set_boolean (self->settings, "protect-computer", FALSE);
  update_protection (self);
}

static void
system_proxy_recovered_cb (GObject      *object,
                           GAsyncResult *result,
                           gpointer      user_data)
{
  g_autoptr(MoatEngine) self = user_data;
  g_autoptr(GError) error = NULL;
  gboolean restored = FALSE;

  if (!moat_system_proxy_recover_finish (MOAT_SYSTEM_PROXY (object), result, &restored, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      g_warning ("Cannot check the desktop’s proxy settings after the last run: %s",
                 error->message);
    }
  else if (restored)
    g_message ("moatd did not exit cleanly last time: restored the desktop’s proxy settings");
  self->system_proxy_ready = TRUE;
  apply_protect (self);
}

static void
restore_done_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!moat_system_proxy_disable_finish (MOAT_SYSTEM_PROXY (object), result, &error))
    g_warning ("Cannot restore the desktop’s proxy settings: %s", error->message);
  *(gboolean *) user_data = TRUE;
}

/* Restores the desktop's proxy settings before moatd exits. Blocks (with a
 * limit): it runs after the main loop has stopped. */
static void
restore_system_proxy_sync (MoatEngine *self)
{
  gboolean done = FALSE;
  gint64 deadline;

  if (self->system_proxy == NULL)
    return;
  if (self->system_proxy_busy)
    {
      deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
      while (self->system_proxy_busy && g_get_monotonic_time () < deadline)
        g_main_context_iteration (NULL, FALSE);
    }
  if (!moat_system_proxy_get_enabled (self->system_proxy))
    return;
  moat_system_proxy_disable_async (self->system_proxy, NULL, restore_done_cb, &done);
  deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (!done && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, FALSE);
  if (!done)
    g_warning ("Restoring the desktop’s proxy settings takes too long; "
               "the next start will finish it");
  /* dconf writes asynchronously: the restored values must leave this
   * process before it exits. */
  g_settings_sync ();
}

/* What a block means as an event: which threat, and how bad. */
static void
block_threat (const MoatProxyBlock *block,
              const char          **threat,
              MoatSeverity         *severity)
{
  if (block->reason == MOAT_PROXY_BLOCK_LOCAL)
    {
      *threat = "network.local_destination";
      *severity = MOAT_SEVERITY_MEDIUM;
      return;
    }
  if (block->reason == MOAT_PROXY_BLOCK_PROTECTED)
    {
      *threat = "moat.protected_resource";
      *severity = MOAT_SEVERITY_LOW;
      return;
    }
  if (block->reason == MOAT_PROXY_BLOCK_POLICY)
    {
      *threat = "moat.policy_block";
      *severity = MOAT_SEVERITY_MEDIUM;
      return;
    }
  if (block->reason != MOAT_PROXY_BLOCK_FILTER)
    {
      *threat = "content.blocked";
      *severity = MOAT_SEVERITY_LOW;
      return;
    }
  switch (block->category)
    {
    case MOAT_FILTER_CATEGORY_ADS:
      *threat = "content.ads";
      *severity = MOAT_SEVERITY_INFO;
      break;
    case MOAT_FILTER_CATEGORY_TRACKERS:
      *threat = "content.tracker";
      *severity = MOAT_SEVERITY_INFO;
      break;
    case MOAT_FILTER_CATEGORY_MALWARE:
      *threat = "content.malware";
      *severity = MOAT_SEVERITY_HIGH;
      break;
    case MOAT_FILTER_CATEGORY_PHISHING:
      *threat = "content.phishing";
      *severity = MOAT_SEVERITY_HIGH;
      break;
    case MOAT_FILTER_CATEGORY_SCAM:
      *threat = "content.scam";
      *severity = MOAT_SEVERITY_MEDIUM;
      break;
    case MOAT_FILTER_CATEGORY_C2:
      *threat = "content.c2";
      *severity = MOAT_SEVERITY_HIGH;
      break;
    case MOAT_FILTER_CATEGORY_ADULT:
    case MOAT_FILTER_CATEGORY_GAMBLING:
      *threat = "content.unwanted";
      *severity = MOAT_SEVERITY_LOW;
      break;
    case MOAT_FILTER_CATEGORY_CUSTOM:
    case MOAT_FILTER_CATEGORY_LAST:
    default:
      *threat = "content.blocked";
      *severity = MOAT_SEVERITY_LOW;
      break;
    }
}

static const char *
block_reason_to_string (MoatProxyBlockReason reason)
{
  switch (reason)
    {
    case MOAT_PROXY_BLOCK_FILTER:
      return "filter";
    case MOAT_PROXY_BLOCK_LOCAL:
      return "local-destination";
    case MOAT_PROXY_BLOCK_PORT:
      return "port";
    case MOAT_PROXY_BLOCK_PROTECTED:
      return "protected";
    case MOAT_PROXY_BLOCK_POLICY:
      return "policy";
    case MOAT_PROXY_BLOCK_LOOP:
    default:
      return "loop";
    }
}

static char *
build_block_detail (const MoatProxyBlock *block)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "reason");
  json_builder_add_string_value (builder, block_reason_to_string (block->reason));
  json_builder_set_member_name (builder, "tunnel");
  json_builder_add_boolean_value (builder, block->tunnel);
  json_builder_set_member_name (builder, "port");
  json_builder_add_int_value (builder, block->port);
  /* Repeats within one batch (MOAT_PROXY_BLOCKED_INTERVAL_MS) are one event. */
  json_builder_set_member_name (builder, "count");
  json_builder_add_int_value (builder, MAX (block->count, 1));
  if (block->url != NULL && g_utf8_validate (block->url, -1, NULL))
    {
      json_builder_set_member_name (builder, "url");
      json_builder_add_string_value (builder, block->url);
    }
  if (block->reason == MOAT_PROXY_BLOCK_FILTER)
    {
      json_builder_set_member_name (builder, "category");
      json_builder_add_string_value (builder, moat_filter_category_to_string (block->category));
      if (block->list_name != NULL && g_utf8_validate (block->list_name, -1, NULL))
        {
          json_builder_set_member_name (builder, "list");
          json_builder_add_string_value (builder, block->list_name);
        }
      if (block->rule != NULL && g_utf8_validate (block->rule, -1, NULL))
        {
          json_builder_set_member_name (builder, "rule");
          json_builder_add_string_value (builder, block->rule);
        }
      json_builder_set_member_name (builder, "line");
      json_builder_add_int_value (builder, block->line);
    }
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  return json_to_string (root, FALSE);
}

/* Every block is an event; the proxy hands them over in batches, on the main
 * loop, and the store writes them on its own thread. */
static void
on_proxy_blocked_cb (MoatProxy  *proxy,
                     GPtrArray  *blocks,
                     MoatEngine *self)
{
  for (guint i = 0; i < blocks->len; i++)
    {
      const MoatProxyBlock *block = g_ptr_array_index (blocks, i);
      g_autofree char *detail = NULL;
      g_autoptr(MoatEvent) event = NULL;
      g_autoptr(GError) error = NULL;
      const char *threat;
      MoatSeverity severity;

      if (block->reason == MOAT_PROXY_BLOCK_LOOP)
        continue;  /* a misconfigured client, not a threat */
      block_threat (block, &threat, &severity);
      detail = build_block_detail (block);
      event = moat_event_new (MOAT_EVENT_SOURCE_PROXY, threat, severity,
                              block->host != NULL ? block->host : "", "blocked", detail);
      event->time = block->time;
      if (!moat_engine_record_event (self, event, &error))
        g_debug ("Block of %s not recorded: %s", block->host, error->message);
    }
}

static void
on_proxy_always_allow_requested_cb (MoatProxy  *proxy,
                                    const char *host,
                                    MoatEngine *self)
{
  g_autoptr(GError) error = NULL;

  if (!moat_lists_add_user_host (self->lists, host, TRUE, NULL, &error))
    g_warning ("Cannot put %s on the allow-list: %s", host, error->message);
}

static void
on_notifier_allow_once_cb (MoatNotifier *notifier,
                           const char   *host,
                           MoatEngine   *self)
{
  g_autoptr(GError) error = NULL;

  if (!moat_engine_allow_once (self, host, &error))
    g_warning ("Cannot allow %s once: %s", host, error->message);
  else
    g_message ("Allowed %s once, from a notification", host);
}

static void apply_walls (MoatEngine *self);

static void
on_lists_changed_cb (MoatLists  *lists,
                     MoatEngine *self)
{
  if (self->proxy != NULL)
    moat_proxy_set_matcher (self->proxy, moat_lists_get_matcher (lists));
  if (self->walled)
    apply_walls (self);
}

static void
apply_proxy_settings (MoatEngine *self)
{
  g_auto(GStrv) local = NULL;
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_autoptr(GVariant) ports = NULL;
  g_autofree char *parent = NULL;
  g_autofree char *parent_host = NULL;
  guint16 parent_port = 0;
  const guint16 *port_values;
  gsize n_ports = 0;

  if (self->proxy == NULL)
    return;

  local = g_settings_get_strv (self->settings, "allow-local-hosts");
  for (guint i = 0; local[i] != NULL; i++)
    {
      g_autofree char *host = moat_host_normalize (local[i], -1, NULL, NULL);

      if (host != NULL)
        g_strv_builder_add (builder, host);
      else
        g_warning ("Ignoring “%s” in allow-local-hosts: not a host name", local[i]);
    }
  for (guint i = 0; self->extra_allow_local != NULL && self->extra_allow_local[i] != NULL; i++)
    g_strv_builder_add (builder, self->extra_allow_local[i]);
  g_strfreev (local);
  local = g_strv_builder_end (builder);
  moat_proxy_set_allow_local_hosts (self->proxy, (const char * const *) local);

  ports = g_settings_get_value (self->settings, "connect-ports");
  port_values = g_variant_get_fixed_array (ports, &n_ports, sizeof (guint16));
  moat_proxy_set_connect_ports (self->proxy, port_values, (guint) n_ports);

  moat_proxy_set_protected_hosts (self->proxy, (const char * const *) self->walled_protected);
  moat_proxy_set_policy_blocked_hosts (self->proxy, (const char * const *) self->walled_blocked);

  /* The threat policy's gateway beats the settings while a threat needs it. */
  parent = self->gateway_override != NULL ? g_strdup (self->gateway_override) :
                                            g_settings_get_string (self->settings, "parent-proxy");
  if (parent[0] != '\0')
    {
      g_autoptr(GError) error = NULL;

      if (!moat_host_split_authority (parent, &parent_host, &parent_port, &error) ||
          parent_port == 0)
        {
          g_warning ("Ignoring the parent proxy “%s”: %s", parent,
                     error != NULL ? error->message : "it needs a port (host:port)");
          g_clear_pointer (&parent_host, g_free);
        }
    }
  moat_proxy_set_parent (self->proxy, parent_host, parent_port);
}

/* List downloads go direct, or through the company's gateway: never through
 * the desktop's proxy settings, which may point at Moat itself. */
static void
apply_fetch_proxy (MoatEngine *self)
{
  g_autofree char *parent = g_settings_get_string (self->settings, "parent-proxy");
  g_autofree char *uri = parent[0] != '\0' ? g_strconcat ("http://", parent, NULL) : NULL;
  g_autoptr(GProxyResolver) resolver = g_simple_proxy_resolver_new (uri, NULL);

  moat_lists_set_proxy_resolver (self->lists, resolver);
}

static void
start_proxy (MoatEngine *self)
{
  g_autoptr(GError) error = NULL;
  gboolean from_settings = self->proxy_port < 0;
  guint16 port;


  if (from_settings)
    g_settings_get (self->settings, "proxy-port", "q", &port);
  else
    port = (guint16) self->proxy_port;

  self->proxy = moat_proxy_new ();
  g_signal_connect_object (self->proxy, "blocked", G_CALLBACK (on_proxy_blocked_cb), self, 0);
  g_signal_connect_object (self->proxy, "always-allow-requested",
                           G_CALLBACK (on_proxy_always_allow_requested_cb), self, 0);
  moat_proxy_set_matcher (self->proxy, moat_lists_get_matcher (self->lists));
  apply_proxy_settings (self);

  if (!moat_proxy_start (self->proxy, "127.0.0.1", port, &error) &&
      from_settings && port != 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE))
    {
      /* Another program has the usual port: any free one serves, and the
       * PAC file and status say which. */
      g_message ("Port %u is taken; the proxy listens on a free port instead", port);
      g_clear_error (&error);
      moat_proxy_start (self->proxy, "127.0.0.1", 0, &error);
    }
  if (error != NULL)
    {
      g_warning ("The filtering proxy cannot start: %s", error->message);
      g_free (self->proxy_error);
      self->proxy_error = g_strdup_printf (_("The filtering proxy cannot start: %s"), error->message);
      g_clear_object (&self->proxy);
      update_protection (self);
      return;
    }
  g_message ("Filtering proxy on %s (PAC file: http://%s/proxy.pac)",
             moat_proxy_get_address (self->proxy), moat_proxy_get_address (self->proxy));
  moat_engine_set_proxy_address (self, moat_proxy_get_address (self->proxy));
}

static void
on_settings_changed_cb (GSettings  *settings,
                        const char *key,
                        MoatEngine *self)
{
  if (g_str_equal (key, "retention-days") || g_str_equal (key, "retention-max-events"))
    apply_retention (self);
  else if (g_str_equal (key, "allow-local-hosts") || g_str_equal (key, "connect-ports") ||
           g_str_equal (key, "parent-proxy"))
    {
      apply_proxy_settings (self);
      apply_fetch_proxy (self);
    }
  else if (g_str_equal (key, "protected-resources") && self->walled)
    apply_walls (self);
  else if (g_str_equal (key, "vpn-on-demand"))
    moat_responder_reconsider (self->responder, MOAT_ACTION_VPN_ON_DEMAND);
  else if (g_str_equal (key, "block-protected-when-unsafe"))
    moat_responder_reconsider (self->responder, MOAT_ACTION_BLOCK_PROTECTED_RESOURCES);
  else if (g_str_equal (key, "protect-computer"))
    {
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PROTECT_COMPUTER]);
      apply_protect (self);
    }
}

static void
make_data_dir_in_thread (GTask        *task,
                         gpointer      source_object,
                         gpointer      task_data,
                         GCancellable *cancellable)
{
  const char *dir = task_data;

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved_errno = errno;

      g_task_return_new_error (task, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                               "Cannot create the data directory %s: %s",
                               dir, g_strerror (saved_errno));
      return;
    }
  g_task_return_boolean (task, TRUE);
}

static void
store_opened_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  MoatEngine *self = g_task_get_source_object (task);
  g_autoptr(GError) error = NULL;

  if (!moat_store_open_finish (MOAT_STORE (object), result, &error))
    {
      g_prefix_error (&error, "opening the event store: ");
      update_protection (self);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_debug ("Event store open at %s", self->store_path);
  apply_retention (self);
  update_protection (self);
  g_task_return_boolean (task, TRUE);
}

static void
data_dir_made_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  MoatEngine *self = g_task_get_source_object (task);
  g_autoptr(GError) error = NULL;
  GCancellable *cancellable;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  cancellable = g_task_get_cancellable (task);
  moat_store_open_async (self->store, cancellable, store_opened_cb, g_steal_pointer (&task));
}

static void
lists_loaded_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(MoatEngine) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!moat_lists_load_finish (MOAT_LISTS (object), result, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      g_warning ("Cannot load the filter lists: %s", error->message);
    }
  if (!self->shut_down && self->proxy == NULL && self->proxy_port != MOAT_ENGINE_NO_PROXY)
    {
      start_proxy (self);
      /* Subscriptions are fetched (when allowed) once protection runs. */
      apply_fetch_proxy (self);
      moat_lists_start_updates (self->lists);
    }
}

static void
store_flushed_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;

  if (!moat_store_flush_finish (MOAT_STORE (object), result, &error))
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_boolean (task, TRUE);
}

static void
store_listed_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  GPtrArray *events;

  events = moat_store_list_events_finish (MOAT_STORE (object), result, &error);
  if (events == NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_pointer (task, events, (GDestroyNotify) g_ptr_array_unref);
}

static void
store_counted_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  guint64 count = 0;

  if (!moat_store_count_events_finish (MOAT_STORE (object), result, &count, &error))
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_pointer (task, g_memdup2 (&count, sizeof count), g_free);
}

static void
store_category_counted_cb (GObject      *object,
                           GAsyncResult *result,
                           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  GHashTable *counts;

  counts = moat_store_category_counts_finish (MOAT_STORE (object), result, &error);
  if (counts == NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_pointer (task, counts, (GDestroyNotify) g_hash_table_unref);
}

/* ---- the threat responder's hooks ---- */

static void
responder_record_cb (MoatEvent *event, gpointer user_data)
{
  MoatEngine *self = user_data;

  /* The incident's one notification tells of it; no grouped one too. */
  if (moat_event_validate (event, NULL) && !self->shut_down)
    moat_store_add_event (self->store, event);
}

/* The protected resources: the policy's and the user's, while walled off. */
static void
apply_walls (MoatEngine *self)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  if (self->walled)
    {
      g_auto(GStrv) listed = moat_lists_dup_protected_resources (self->lists);

      g_strv_builder_addv (builder, (const char **) moat_policy_get_protected_hosts (
                                      moat_policy_manager_get_policy (self->policy)));
      g_strv_builder_addv (builder, (const char **) listed);
    }
  g_strfreev (self->walled_protected);
  self->walled_protected = g_strv_builder_end (builder);
  if (self->proxy != NULL)
    moat_proxy_set_protected_hosts (self->proxy, (const char * const *) self->walled_protected);
}

static void
responder_set_protected_cb (gboolean walled, gpointer user_data)
{
  MoatEngine *self = user_data;

  self->walled = walled;
  apply_walls (self);
}

static gboolean
responder_has_protected_cb (gpointer user_data)
{
  MoatEngine *self = user_data;
  g_auto(GStrv) listed = moat_lists_dup_protected_resources (self->lists);

  return listed != NULL && listed[0] != NULL;
}

/* The switches in Preferences. */
static gboolean
responder_action_allowed_cb (MoatAction action, gpointer user_data)
{
  MoatEngine *self = user_data;

  if (action == MOAT_ACTION_VPN_ON_DEMAND)
    return g_settings_get_boolean (self->settings, "vpn-on-demand");
  if (action == MOAT_ACTION_BLOCK_PROTECTED_RESOURCES)
    return g_settings_get_boolean (self->settings, "block-protected-when-unsafe");
  return TRUE;
}

static void
responder_set_blocked_hosts_cb (const char * const *hosts, gpointer user_data)
{
  MoatEngine *self = user_data;

  g_strfreev (self->walled_blocked);
  self->walled_blocked = g_strdupv ((char **) hosts);
  if (self->proxy != NULL)
    moat_proxy_set_policy_blocked_hosts (self->proxy, hosts);
}

static void
responder_set_gateway_cb (const char *gateway, gpointer user_data)
{
  MoatEngine *self = user_data;

  g_free (self->gateway_override);
  self->gateway_override = g_strdup (gateway);
  apply_proxy_settings (self);
}

static void
responder_notify_cb (const char   *title,
                     const char   *body,
                     MoatSeverity  severity,
                     gpointer      user_data)
{
  MoatEngine *self = user_data;

  moat_notifier_notify_incident (self->notifier, title, body, severity);
}

static void
on_responses_changed_cb (MoatResponder *responder,
                         MoatEngine    *self)
{
  g_signal_emit (self, signals[SIGNAL_THREATS_CHANGED], 0);
}

/* ---- the network checks ---- */

static void
on_devices_record_cb (MoatDeviceManager *devices,
                      MoatEvent         *event,
                      MoatEngine        *self)
{
  g_autoptr(GError) error = NULL;

  if (!moat_engine_record_event (self, event, &error))
    g_warning ("Could not record a phone's event: %s", error->message);
}

/* Imported indicators' domains are blocked as c2, from a list file moatd
 * writes: the Lists page shows it, and it can be turned off there. */
static void
on_indicators_changed_cb (MoatDeviceManager *devices,
                          const char        *path,
                          MoatEngine        *self)
{
  g_autoptr(GPtrArray) infos = moat_lists_dup_infos (self->lists);
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;

  for (guint i = 0; i < infos->len; i++)
    {
      const MoatListInfo *info = g_ptr_array_index (infos, i);

      if (g_strcmp0 (info->source, path) == 0)
        {
          moat_lists_reload (self->lists);
          return;
        }
    }
  id = moat_lists_add (self->lists, path, MOAT_FILTER_CATEGORY_C2,
                       _("Imported indicators of compromise"), &error);
  if (id == NULL)
    g_warning ("Could not block the indicators' domains: %s", error->message);
}

static void
on_detectors_raise_cb (MoatDetectors *detectors,
                       const char    *threat,
                       int            severity,
                       const char    *subject,
                       const char    *evidence,
                       MoatEngine    *self)
{
  g_autoptr(GError) error = NULL;

  if (!moat_engine_raise_threat (self, threat, (MoatSeverity) severity, subject, evidence, &error))
    g_warning ("Cannot raise %s on “%s”: %s", threat, subject, error->message);
}

static void
on_detectors_clear_cb (MoatDetectors *detectors,
                       const char    *threat,
                       const char    *subject,
                       MoatEngine    *self)
{
  /* Someone (moatctl, a test) may have cleared it already. */
  moat_engine_clear_threat (self, threat, subject, NULL);
}

static void
on_responder_vpn_changed_cb (MoatResponder *responder,
                             gboolean       active,
                             MoatEngine    *self)
{
  moat_detectors_set_masked (self->detectors, active);
}

static void
on_policy_changed_cb (MoatPolicyManager *policy,
                      MoatEngine        *self)
{
  moat_detectors_set_policy_vpn (self->detectors,
                                 moat_policy_get_vpn (moat_policy_manager_get_policy (policy)));
  moat_responder_set_policy (self->responder, moat_policy_manager_get_policy (policy));
  if (self->walled)
    apply_walls (self);
}

static void
moat_engine_constructed (GObject *object)
{
  MoatEngine *self = MOAT_ENGINE (object);

  G_OBJECT_CLASS (moat_engine_parent_class)->constructed (object);

  if (self->data_dir == NULL)
    self->data_dir = g_build_filename (g_get_user_data_dir (), "moat", NULL);
  if (self->settings == NULL)
    self->settings = g_settings_new (MOAT_ENGINE_SETTINGS_SCHEMA);
  self->store_path = g_build_filename (self->data_dir, MOAT_ENGINE_STORE_FILENAME, NULL);

  self->store = moat_store_new (self->store_path);
  self->last_store_state = moat_store_get_state (self->store);
  g_signal_connect_object (self->store, "events-committed",
                           G_CALLBACK (on_store_events_committed_cb), self, 0);
  g_signal_connect_object (self->store, "recovered",
                           G_CALLBACK (on_store_recovered_cb), self, 0);
  g_signal_connect_object (self->store, "notify::state",
                           G_CALLBACK (on_store_state_changed_cb), self, 0);
  g_signal_connect_object (self->store, "notify::message",
                           G_CALLBACK (on_store_message_changed_cb), self, 0);

  self->lists = moat_lists_new (self->settings, self->data_dir);
  {
    g_autofree char *policy_path = g_build_filename (self->data_dir, "policy", NULL);

    self->policy = moat_policy_manager_new (policy_path);
  }
  g_signal_connect_object (self->lists, "changed", G_CALLBACK (on_lists_changed_cb), self, 0);

  self->system_proxy = moat_system_proxy_new (self->data_dir, NULL);
  g_signal_connect_object (self->system_proxy, "notify::enabled",
                           G_CALLBACK (on_system_proxy_enabled_cb), self, 0);

  self->notifier = moat_notifier_new (self->settings);
  g_signal_connect_object (self->notifier, "allow-once-requested",
                           G_CALLBACK (on_notifier_allow_once_cb), self, 0);

  {
    MoatResponderHooks hooks = {
      .record = responder_record_cb,
      .set_protected = responder_set_protected_cb,
      .has_protected = responder_has_protected_cb,
      .action_allowed = responder_action_allowed_cb,
      .set_blocked_hosts = responder_set_blocked_hosts_cb,
      .set_gateway = responder_set_gateway_cb,
      .notify = responder_notify_cb,
      .user_data = self,
    };

    g_autoptr(MoatNetwork) network = moat_nm_network_new ();

    self->network = g_object_ref (network);
    self->responder = moat_responder_new (network, &hooks, self->data_dir);
    self->detectors = moat_detectors_new (self->settings, MOAT_NM_NETWORK (network),
                                          self->data_dir);
    moat_detectors_set_policy_vpn (self->detectors, moat_policy_get_vpn (
                                     moat_policy_manager_get_policy (self->policy)));
    g_signal_connect_object (self->detectors, "raise", G_CALLBACK (on_detectors_raise_cb),
                             self, 0);
    g_signal_connect_object (self->detectors, "clear", G_CALLBACK (on_detectors_clear_cb),
                             self, 0);
    /* The adb server's port: ANDROID_ADB_SERVER_PORT, as adb itself. */
    self->devices = moat_device_manager_new (self->data_dir, 0);
    moat_device_manager_set_proxy_address (self->devices, self->proxy_address);
    g_signal_connect_object (self->devices, "record", G_CALLBACK (on_devices_record_cb),
                             self, 0);
    g_signal_connect_object (self->devices, "indicators-changed",
                             G_CALLBACK (on_indicators_changed_cb), self, 0);
    self->health = moat_health_manager_new (self);
    g_signal_connect_object (self->responder, "vpn-changed",
                             G_CALLBACK (on_responder_vpn_changed_cb), self, 0);
    moat_responder_set_policy (self->responder, moat_policy_manager_get_policy (self->policy));
    g_signal_connect_object (self->responder, "responses-changed",
                             G_CALLBACK (on_responses_changed_cb), self, 0);
    g_signal_connect_object (self->policy, "changed", G_CALLBACK (on_policy_changed_cb), self, 0);
  }
  g_signal_connect_object (self->settings, "changed",
                           G_CALLBACK (on_settings_changed_cb), self, 0);

  update_protection (self);
  update_risk_level (self);
}

static void
moat_engine_dispose (GObject *object)
{
  MoatEngine *self = MOAT_ENGINE (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->added_id, g_source_remove);
  g_clear_object (&self->detectors);
  g_clear_object (&self->health);
  g_clear_object (&self->devices);
  g_clear_object (&self->responder);
  g_clear_object (&self->network);
  if (self->proxy != NULL)
    moat_proxy_stop (self->proxy);
  g_clear_object (&self->proxy);
  g_clear_pointer (&self->walled_protected, g_strfreev);
  g_clear_pointer (&self->walled_blocked, g_strfreev);
  g_clear_pointer (&self->gateway_override, g_free);
  if (self->store != NULL)
    moat_store_close (self->store);
  g_clear_object (&self->notifier);
  g_clear_object (&self->system_proxy);
  g_clear_object (&self->lists);
  g_clear_object (&self->policy);
  g_clear_object (&self->store);
  g_clear_object (&self->settings);
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (moat_engine_parent_class)->dispose (object);
}

static void
moat_engine_finalize (GObject *object)
{
  MoatEngine *self = MOAT_ENGINE (object);

  g_clear_pointer (&self->added, g_ptr_array_unref);
  g_clear_pointer (&self->active_threats, g_array_unref);
  g_clear_pointer (&self->threats, g_ptr_array_unref);
  g_free (self->data_dir);
  g_free (self->store_path);
  g_free (self->proxy_address);
  g_free (self->proxy_error);
  g_strfreev (self->extra_allow_local);
  g_free (self->protection_summary);

  G_OBJECT_CLASS (moat_engine_parent_class)->finalize (object);
}

static void
moat_engine_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  MoatEngine *self = MOAT_ENGINE (object);

  switch (prop_id)
    {
    case PROP_DATA_DIR:
      g_value_set_string (value, self->data_dir);
      break;
    case PROP_SETTINGS:
      g_value_set_object (value, self->settings);
      break;
    case PROP_STORE_PATH:
      g_value_set_string (value, self->store_path);
      break;
    case PROP_PROTECTION_STATE:
      g_value_set_int (value, self->protection_state);
      break;
    case PROP_PROTECTION_SUMMARY:
      g_value_set_string (value, moat_engine_get_protection_summary (self));
      break;
    case PROP_RISK_LEVEL:
      g_value_set_int (value, self->risk_level);
      break;
    case PROP_PROXY_ADDRESS:
      g_value_set_string (value, moat_engine_get_proxy_address (self));
      break;
    case PROP_STORE_STATE:
      g_value_set_int (value, moat_engine_get_store_state (self));
      break;
    case PROP_STORE_MESSAGE:
      g_value_set_string (value, moat_engine_get_store_message (self));
      break;
    case PROP_PROTECT_COMPUTER:
      g_value_set_boolean (value, moat_engine_get_protect_computer (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
moat_engine_set_property (GObject      *object,
                          guint         prop_id,
                          const GValue *value,
                          GParamSpec   *pspec)
{
  MoatEngine *self = MOAT_ENGINE (object);

  switch (prop_id)
    {
    case PROP_DATA_DIR:
      self->data_dir = g_value_dup_string (value);
      break;
    case PROP_SETTINGS:
      self->settings = g_value_dup_object (value);
      break;
    case PROP_PROXY_ADDRESS:
      moat_engine_set_proxy_address (self, g_value_get_string (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
moat_engine_class_init (MoatEngineClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = moat_engine_constructed;
  object_class->dispose = moat_engine_dispose;
  object_class->finalize = moat_engine_finalize;
  object_class->get_property = moat_engine_get_property;
  object_class->set_property = moat_engine_set_property;

  properties[PROP_DATA_DIR] =
    g_param_spec_string ("data-dir", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SETTINGS] =
    g_param_spec_object ("settings", NULL, NULL, G_TYPE_SETTINGS,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_STORE_PATH] =
    g_param_spec_string ("store-path", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_PROTECTION_STATE] =
    g_param_spec_int ("protection-state", NULL, NULL,
                      0, MOAT_PROTECTION_STATE_LAST - 1, MOAT_PROTECTION_STATE_UNPROTECTED,
                      G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_PROTECTION_SUMMARY] =
    g_param_spec_string ("protection-summary", NULL, NULL, "",
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_RISK_LEVEL] =
    g_param_spec_int ("risk-level", NULL, NULL,
                      0, MOAT_RISK_LEVEL_LAST - 1, MOAT_RISK_LEVEL_NONE,
                      G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_PROXY_ADDRESS] =
    g_param_spec_string ("proxy-address", NULL, NULL, "",
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_STORE_STATE] =
    g_param_spec_int ("store-state", NULL, NULL,
                      0, MOAT_STORE_STATE_LAST - 1, MOAT_STORE_STATE_OPENING,
                      G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_STORE_MESSAGE] =
    g_param_spec_string ("store-message", NULL, NULL, "",
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_PROTECT_COMPUTER] =
    g_param_spec_boolean ("protect-computer", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * MoatEngine::events-added:
   * @events: (element-type MoatEvent): committed events, oldest first
   */
  signals[SIGNAL_EVENTS_ADDED] =
    g_signal_new ("events-added",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_PTR_ARRAY);

  /**
   * MoatEngine::threats-changed:
   *
   * A threat was raised, changed its severity or cleared.
   */
  signals[SIGNAL_THREATS_CHANGED] =
    g_signal_new ("threats-changed",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);
}

static void
threat_free (MoatThreat *threat)
{
  g_free (threat->threat);
  g_free (threat->subject);
  g_free (threat->evidence);
  g_free (threat);
}

static void
moat_engine_init (MoatEngine *self)
{
  self->cancellable = g_cancellable_new ();
  self->added = g_ptr_array_new_with_free_func ((GDestroyNotify) moat_event_unref);
  self->active_threats = g_array_new (FALSE, FALSE, sizeof (MoatActiveThreat));
  self->threats = g_ptr_array_new_with_free_func ((GDestroyNotify) threat_free);
  self->proxy_address = g_strdup ("");
  self->proxy_port = -1;
  self->protection_state = MOAT_PROTECTION_STATE_UNPROTECTED;
  self->risk_level = MOAT_RISK_LEVEL_NONE;
}

/**
 * moat_engine_new:
 * @data_dir: (nullable): where the store lives; NULL for $XDG_DATA_HOME/moat
 * @settings: (nullable): the settings to follow; NULL for the default
 *   io.github.moatproject.Moat settings (the schema must be installed)
 */
MoatEngine *
moat_engine_new (const char *data_dir,
                 GSettings  *settings)
{
  g_return_val_if_fail (settings == NULL || G_IS_SETTINGS (settings), NULL);

  return g_object_new (MOAT_TYPE_ENGINE,
                       "data-dir", data_dir,
                       "settings", settings,
                       NULL);
}

static void
policy_read_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GError) error = NULL;

  if (!moat_policy_manager_init_finish (MOAT_POLICY_MANAGER (object), result, &error) &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_warning ("Could not read the saved policy: %s", error->message);
}

/**
 * moat_engine_start_async:
 *
 * Creates the data directory and opens the store, both off the main loop,
 * then applies the retention settings and follows their changes.
 */
void
moat_engine_start_async (MoatEngine          *self,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GTask) mkdir_task = NULL;

  g_return_if_fail (MOAT_IS_ENGINE (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, moat_engine_start_async);

  if (self->started || self->shut_down)
    {
      g_task_return_new_error (task, MOAT_ERROR, MOAT_ERROR_FAILED,
                               "The engine was already started");
      return;
    }
  self->started = TRUE;

  /* The lists load on their own worker while the store opens; a list that
   * cannot be read is reported per list and never stops the engine. The
   * proxy starts once they are in, so nothing passes unfiltered; protection
   * does not wait for the event history. */
  moat_lists_load_async (self->lists, self->cancellable, lists_loaded_cb, g_object_ref (self));

  /* The default policy is in force until a saved one has been read. */
  moat_policy_manager_init_async (self->policy, self->cancellable, policy_read_cb, NULL);
  /* Undo what a previous moatd left in force that nothing needs now. */
  moat_responder_start (self->responder);
  moat_detectors_start (self->detectors, self->network_checks);
  moat_device_manager_start (self->devices);
  /* Health is checked by itself when the network checks are (not in tests
   * that pass --no-network-checks: they ask). */
  moat_health_manager_start (self->health, self->network_checks);

  /* After a crash the desktop may still point at a proxy that is gone. */
  moat_system_proxy_recover_async (self->system_proxy, self->cancellable,
                                   system_proxy_recovered_cb, g_object_ref (self));

  mkdir_task = g_task_new (self, cancellable, data_dir_made_cb, g_steal_pointer (&task));
  g_task_set_source_tag (mkdir_task, make_data_dir_in_thread);
  g_task_set_task_data (mkdir_task, g_strdup (self->data_dir), g_free);
  g_task_run_in_thread (mkdir_task, make_data_dir_in_thread);
}

gboolean
moat_engine_start_finish (MoatEngine    *self,
                          GAsyncResult  *result,
                          GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* Re-reads what the settings say (SIGHUP). */
void
moat_engine_reload (MoatEngine *self)
{
  g_return_if_fail (MOAT_IS_ENGINE (self));

  if (self->shut_down)
    return;
  apply_retention (self);
  update_protection (self);
}

/**
 * moat_engine_shutdown:
 *
 * Emits what is waiting for ::events-added, then flushes and closes the store.
 * Blocks for the final commit: call it after the main loop has stopped.
 * Idempotent.
 */
void
moat_engine_shutdown (MoatEngine *self)
{
  g_return_if_fail (MOAT_IS_ENGINE (self));

  if (self->shut_down)
    return;
  if (self->added_id != 0)
    {
      g_clear_handle_id (&self->added_id, g_source_remove);
      emit_events_added_cb (self);
    }
  if (self->health != NULL)
    moat_health_manager_stop (self->health);
  /* Phones routed through the proxy are put back while it still runs. */
  if (self->devices != NULL)
    moat_device_manager_shutdown (self->devices);
  self->shut_down = TRUE;
  restore_system_proxy_sync (self);
  g_cancellable_cancel (self->cancellable);
  if (self->proxy != NULL)
    moat_proxy_stop (self->proxy);
  moat_store_close (self->store);
}

const char *
moat_engine_get_data_dir (MoatEngine *self)
{
  g_return_val_if_fail (MOAT_IS_ENGINE (self), NULL);
  return self->data_dir;
}

const char *
moat_engine_get_store_path (MoatEngine *self)
{
  g_return_val_if_fail (MOAT_IS_ENGINE (self), NULL);
  return self->store_path;
}

/* Returns: (transfer none): the filter lists */
MoatLists *
moat_engine_get_lists (MoatEngine *self)
{
  g_return_val_if_fail (MOAT_IS_ENGINE (self), NULL);
  return self->lists;
}

/* Protection health. */
MoatHealthManager *
moat_engine_get_health (MoatEngine *self)
{
  g_return_val_if_fail (MOAT_IS_ENGINE (self), NULL);

  return self->health;
}

/* NetworkManager, as the responder and the checks see it. */
MoatNetwork *
moat_engine_get_network (MoatEngine *self)
{
  g_return_val_if_fail (MOAT_IS_ENGINE (self), NULL);

  return self->network;
}

/* The phones. */
MoatDeviceManager *
moat_engine_get_devices (MoatEngine *self)
{
  g_return_val_if_fail (MOAT_IS_ENGINE (self), NULL);

  return self->devices;
}

/* The network checks. */
MoatDetectors *
moat_engine_get_detectors (MoatEngine *self)
{
  g_return_val_if_fail (MOAT_IS_ENGINE (self), NULL);

  return self->detectors;
}

/**
 * moat_engine_set_network_checks:
 * @automatic: whether the network checks run by themselves (on network
 *   changes and on a schedule); with %FALSE they run only when asked
 *
 * Call before moat_engine_start_async(). The default is %FALSE (moatd
 * turns them on), so that an engine in a test never reaches out by itself.
 */
void
moat_engine_set_network_checks (MoatEngine *self,
                                gboolean    automatic)
{
  g_return_if_fail (MOAT_IS_ENGINE (self));

  self->network_checks = automatic;
}

/* Runs the policy's actions for the active threats. */
MoatResponder *
moat_engine_get_responder (MoatEngine *self)
{
  g_return_val_if_fail (MOAT_IS_ENGINE (self), NULL);

  return self->responder;
}

/* The policy in force: which threat gets which response. */
MoatPolicyManager *
moat_engine_get_policy_manager (MoatEngine *self)
{
  g_return_val_if_fail (MOAT_IS_ENGINE (self), NULL);
  return self->policy;
}

/**
 * moat_engine_set_proxy_options:
 * @port: the port to listen on (0 picks a free one), -1 for the settings, or
 *   MOAT_ENGINE_NO_PROXY for none
 * @allow_local_hosts: (nullable): host names that may reach local addresses,
 *   on top of the allow-local-hosts setting
 *
 * moatd --proxy-port and --allow-local-host. Call before starting.
 */
gboolean
moat_engine_set_proxy_options (MoatEngine          *self,
                               int                  port,
                               const char * const  *allow_local_hosts,
                               GError             **error)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  g_return_val_if_fail (MOAT_IS_ENGINE (self), FALSE);
  g_return_val_if_fail (!self->started, FALSE);
  g_return_val_if_fail (port >= MOAT_ENGINE_NO_PROXY && port <= G_MAXUINT16, FALSE);

  for (guint i = 0; allow_local_hosts != NULL && allow_local_hosts[i] != NULL; i++)
    {
      g_autofree char *host = moat_host_normalize (allow_local_hosts[i], -1, NULL, error);

      if (host == NULL)
        {
          g_prefix_error (error, "“%s”: ", allow_local_hosts[i]);
          return FALSE;
        }
      g_strv_builder_add (builder, host);
    }
  g_strfreev (self->extra_allow_local);
  self->extra_allow_local = g_strv_builder_end (builder);
  self->proxy_port = port;
  return TRUE;
}

/* Returns: (transfer none) (nullable): the running proxy */
MoatProxy *
moat_engine_get_proxy (MoatEngine *self)
{
  g_return_val_if_fail (MOAT_IS_ENGINE (self), NULL);
  return self->proxy;
}

/* Lets @host through the lists for a few minutes ("Allow once"). */
gboolean
moat_engine_allow_once (MoatEngine  *self,
                        const char  *host,
                        GError     **error)
{
  g_autofree char *canonical = NULL;

  g_return_val_if_fail (MOAT_IS_ENGINE (self), FALSE);
  g_return_val_if_fail (host != NULL, FALSE);

  canonical = moat_host_normalize (host, -1, NULL, NULL);
  if (canonical == NULL)
    {
      g_set_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                   _("“%s” is not a host name."), host);
      return FALSE;
    }
  if (self->proxy == NULL)
    {
      g_set_error_literal (error, MOAT_ERROR, MOAT_ERROR_FAILED,
                           _("The filtering proxy is not running."));
      return FALSE;
    }
  moat_proxy_allow_once (self->proxy, canonical);
  return TRUE;
}

gboolean
moat_engine_get_protect_computer (MoatEngine *self)
{
  g_return_val_if_fail (MOAT_IS_ENGINE (self), FALSE);
  return g_settings_get_boolean (self->settings, "protect-computer");
}

/* Points the desktop at Moat's proxy, or restores what it was before. */
gboolean
moat_engine_set_protect_computer (MoatEngine  *self,
                                  gboolean     enabled,
                                  GError     **error)
{
  g_return_val_if_fail (MOAT_IS_ENGINE (self), FALSE);

  if (enabled && moat_system_proxy_get_settings (self->system_proxy) == NULL)
    {
      g_set_error_literal (error, MOAT_ERROR, MOAT_ERROR_NOT_SUPPORTED,
                           _("This desktop has no GNOME proxy settings (org.gnome.system.proxy) "
                             "to point at Moat. Set http_proxy and https_proxy for your "
                             "programs instead."));
      return FALSE;
    }
  if (enabled && self->proxy == NULL)
    {
      g_set_error_literal (error, MOAT_ERROR, MOAT_ERROR_FAILED,
                           _("The filtering proxy is not running, so it cannot protect this computer."));
      return FALSE;
    }
  g_settings_set_boolean (self->settings, "protect-computer", enabled);
  return TRUE;
}

/* moatd --list FILE: use exactly these list files. Call before starting. */
void
moat_engine_set_list_files (MoatEngine         *self,
                            const char * const *files)
{
  g_return_if_fail (MOAT_IS_ENGINE (self));
  g_return_if_fail (!self->started);

  moat_lists_set_command_line_files (self->lists, files);
}

GSettings *
moat_engine_get_settings (MoatEngine *self)
{
  g_return_val_if_fail (MOAT_IS_ENGINE (self), NULL);
  return self->settings;
}

MoatProtectionState
moat_engine_get_protection_state (MoatEngine *self)
{
  g_return_val_if_fail (MOAT_IS_ENGINE (self), MOAT_PROTECTION_STATE_UNPROTECTED);
  return self->protection_state;
}

const char *
moat_engine_get_protection_summary (MoatEngine *self)
{
  g_return_val_if_fail (MOAT_IS_ENGINE (self), NULL);
  return self->protection_summary != NULL ? self->protection_summary : "";
}

MoatRiskLevel
moat_engine_get_risk_level (MoatEngine *self)
{
  g_return_val_if_fail (MOAT_IS_ENGINE (self), MOAT_RISK_LEVEL_NONE);
  return self->risk_level;
}

const char *
moat_engine_get_proxy_address (MoatEngine *self)
{
  g_return_val_if_fail (MOAT_IS_ENGINE (self), NULL);
  return self->proxy_address;
}

/**
 * moat_engine_set_proxy_address:
 * @address: (nullable): "host:port" of the running filtering proxy, or NULL/"" when it stopped
 *
 * For the proxy module (a later issue): protection follows the proxy.
 */
void
moat_engine_set_proxy_address (MoatEngine *self,
                               const char *address)
{
  g_return_if_fail (MOAT_IS_ENGINE (self));

  if (address == NULL)
    address = "";
  if (g_strcmp0 (self->proxy_address, address) == 0)
    return;
  g_free (self->proxy_address);
  self->proxy_address = g_strdup (address);
  if (self->devices != NULL)
    moat_device_manager_set_proxy_address (self->devices, address);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PROXY_ADDRESS]);
  update_protection (self);
  apply_protect (self);
}

MoatStoreState
moat_engine_get_store_state (MoatEngine *self)
{
  g_return_val_if_fail (MOAT_IS_ENGINE (self), MOAT_STORE_STATE_ERROR);
  return moat_store_get_state (self->store);
}

const char *
moat_engine_get_store_message (MoatEngine *self)
{
  const char *message;

  g_return_val_if_fail (MOAT_IS_ENGINE (self), NULL);
  message = moat_store_get_message (self->store);
  return message != NULL ? message : "";
}

/**
 * moat_engine_record_event:
 * @event: an event from any of Moat's parts or a test feed
 *
 * Checks the event (moat_event_validate()), queues it for the store and
 * offers it to the notifier. Never blocks. It appears in ::events-added once
 * committed.
 *
 * Returns: %FALSE with MOAT_ERROR_INVALID_ARGUMENT for an invalid event
 */
gboolean
moat_engine_record_event (MoatEngine  *self,
                          MoatEvent   *event,
                          GError     **error)
{
  g_return_val_if_fail (MOAT_IS_ENGINE (self), FALSE);
  g_return_val_if_fail (event != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!moat_event_validate (event, error))
    return FALSE;
  if (self->shut_down)
    {
      g_set_error_literal (error, MOAT_ERROR, MOAT_ERROR_FAILED, "The engine is shutting down");
      return FALSE;
    }
  moat_store_add_event (self->store, event);
  moat_notifier_add_event (self->notifier, event, MOAT_NOTIFY_FLAGS_NONE);
  return TRUE;
}

/**
 * moat_engine_record_event_quietly:
 *
 * As moat_engine_record_event(), without a notification: for events whose
 * part notifies on its own terms (health reminders).
 */
gboolean
moat_engine_record_event_quietly (MoatEngine  *self,
                                  MoatEvent   *event,
                                  GError     **error)
{
  g_return_val_if_fail (MOAT_IS_ENGINE (self), FALSE);
  g_return_val_if_fail (event != NULL, FALSE);

  if (!moat_event_validate (event, error))
    return FALSE;
  if (self->shut_down)
    {
      g_set_error_literal (error, MOAT_ERROR, MOAT_ERROR_FAILED, "The engine is shutting down");
      return FALSE;
    }
  moat_store_add_event (self->store, event);
  return TRUE;
}

/* One notification, never grouped (see moat_notifier_notify_incident()). */
void
moat_engine_notify (MoatEngine   *self,
                    const char   *title,
                    const char   *body,
                    MoatSeverity  severity)
{
  g_return_if_fail (MOAT_IS_ENGINE (self));

  if (!self->shut_down)
    moat_notifier_notify_incident (self->notifier, title, body, severity);
}

/* Completes when everything recorded before the call is committed (or failed). */
void
moat_engine_flush_async (MoatEngine          *self,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (MOAT_IS_ENGINE (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, moat_engine_flush_async);
  moat_store_flush_async (self->store, cancellable, store_flushed_cb, g_steal_pointer (&task));
}

gboolean
moat_engine_flush_finish (MoatEngine    *self,
                          GAsyncResult  *result,
                          GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * moat_engine_list_events_async:
 * @filter: (nullable): which events
 * @limit: 1..1000
 */
void
moat_engine_list_events_async (MoatEngine            *self,
                               const MoatEventFilter *filter,
                               guint64                offset,
                               guint                  limit,
                               GCancellable          *cancellable,
                               GAsyncReadyCallback    callback,
                               gpointer               user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(MoatEventFilter) all = NULL;

  g_return_if_fail (MOAT_IS_ENGINE (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, moat_engine_list_events_async);
  if (limit < 1 || limit > 1000)
    {
      g_task_return_new_error (task, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                               "The limit must be between 1 and 1000, not %u", limit);
      return;
    }
  if (filter == NULL)
    filter = all = moat_event_filter_new ();
  moat_store_list_events_async (self->store, filter, offset, limit, cancellable,
                                store_listed_cb, g_steal_pointer (&task));
}

/* Returns: (transfer container): MoatEvents */
GPtrArray *
moat_engine_list_events_finish (MoatEngine    *self,
                                GAsyncResult  *result,
                                GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

void
moat_engine_count_events_async (MoatEngine            *self,
                                const MoatEventFilter *filter,
                                GCancellable          *cancellable,
                                GAsyncReadyCallback    callback,
                                gpointer               user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(MoatEventFilter) all = NULL;

  g_return_if_fail (MOAT_IS_ENGINE (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, moat_engine_count_events_async);
  if (filter == NULL)
    filter = all = moat_event_filter_new ();
  moat_store_count_events_async (self->store, filter, cancellable,
                                 store_counted_cb, g_steal_pointer (&task));
}

gboolean
moat_engine_count_events_finish (MoatEngine    *self,
                                 GAsyncResult  *result,
                                 guint64       *out_count,
                                 GError       **error)
{
  g_autofree guint64 *count = NULL;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  count = g_task_propagate_pointer (G_TASK (result), error);
  if (count == NULL)
    return FALSE;
  if (out_count != NULL)
    *out_count = *count;
  return TRUE;
}

/**
 * moat_engine_category_counts_async:
 * @since: start of the window (inclusive, µs)
 * @until: end of the window (exclusive), or 0 for no end
 * @action: (nullable): only events with this action, or NULL/"" for all
 */
void
moat_engine_category_counts_async (MoatEngine          *self,
                                   gint64               since,
                                   gint64               until,
                                   const char          *action,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (MOAT_IS_ENGINE (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, moat_engine_category_counts_async);
  if (since < 0 || until < 0 || (until != 0 && until < since))
    {
      g_task_return_new_error (task, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                               "The time window is invalid: it must satisfy 0 <= start <= end "
                               "(or end 0)");
      return;
    }
  if (action != NULL && !g_utf8_validate (action, -1, NULL))
    {
      g_task_return_new_error (task, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                               "The action is not valid UTF-8");
      return;
    }
  moat_store_category_counts_async (self->store, since, until, action, cancellable,
                                    store_category_counted_cb, g_steal_pointer (&task));
}

/* Returns: (transfer full): threat id (char *) to guint64 * count */
GHashTable *
moat_engine_category_counts_finish (MoatEngine    *self,
                                    GAsyncResult  *result,
                                    GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * moat_engine_compute_risk_level:
 * @threats: (array length=n_threats) (nullable): the active threats
 *
 * The risk level of a device is that of its worst active threat: no active
 * threat (or only informational ones) is "none", otherwise the most severe
 * threat's severity decides. Items with an invalid threat id or an out-of-range
 * severity are ignored. A pure function.
 */
/* ---- threats ---- */

static MoatThreat *
find_threat (MoatEngine *self, const char *threat, const char *subject, guint *index)
{
  for (guint i = 0; i < self->threats->len; i++)
    {
      MoatThreat *t = g_ptr_array_index (self->threats, i);

      if (g_str_equal (t->threat, threat) && g_str_equal (t->subject, subject))
        {
          if (index != NULL)
            *index = i;
          return t;
        }
    }
  return NULL;
}

/* The risk level follows the active threats. */
static void
threats_changed (MoatEngine *self)
{
  g_array_set_size (self->active_threats, 0);
  for (guint i = 0; i < self->threats->len; i++)
    {
      MoatThreat *t = g_ptr_array_index (self->threats, i);
      MoatActiveThreat active = { t->threat, t->severity };

      g_array_append_val (self->active_threats, active);
    }
  update_risk_level (self);
  g_signal_emit (self, signals[SIGNAL_THREATS_CHANGED], 0);
}

/**
 * moat_engine_raise_threat:
 * @threat: a threat id (`network.tls_interception`)
 * @severity: how bad it is now
 * @subject: what it concerns (a network, a host, an app), or ""
 * @evidence: (nullable): a JSON object with what was seen
 *
 * A detector saw @threat. A new threat, or a known one whose severity
 * changed, is recorded as an event ("detected", the evidence as detail) and
 * the risk level follows; the same report again changes nothing, so
 * detectors may repeat themselves on every scan.
 *
 * Returns: %FALSE with MOAT_ERROR_INVALID_ARGUMENT for a bad id, subject or
 *   evidence
 */
gboolean
moat_engine_raise_threat (MoatEngine   *self,
                          const char   *threat,
                          MoatSeverity  severity,
                          const char   *subject,
                          const char   *evidence,
                          GError      **error)
{
  g_autoptr(MoatEvent) event = NULL;
  const MoatPolicyRule *rule;
  MoatThreat *known;

  g_return_val_if_fail (MOAT_IS_ENGINE (self), FALSE);
  g_return_val_if_fail (threat != NULL && subject != NULL, FALSE);

  if (!moat_threat_id_is_valid (threat) || (guint) severity >= MOAT_SEVERITY_LAST)
    {
      g_set_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                   "“%s” at severity %d is not a threat", threat, (int) severity);
      return FALSE;
    }
  known = find_threat (self, threat, subject, NULL);
  if (known != NULL && known->severity == severity)
    return TRUE;

  event = moat_event_new (MOAT_EVENT_SOURCE_DETECTOR, threat, severity, subject, "detected",
                          evidence != NULL ? evidence : "{}");
  if (!moat_event_validate (event, error))
    return FALSE;
  if (self->shut_down)
    {
      g_set_error_literal (error, MOAT_ERROR, MOAT_ERROR_FAILED, "The engine is shutting down");
      return FALSE;
    }
  /* Told of in the incident's notification, once its response settles. */
  moat_store_add_event (self->store, event);

  if (known != NULL)
    {
      known->severity = severity;
      g_free (known->evidence);
      known->evidence = g_strdup (event->detail);
    }
  else
    {
      MoatThreat *t = g_new0 (MoatThreat, 1);

      t->threat = g_strdup (threat);
      t->severity = severity;
      t->subject = g_strdup (subject);
      t->evidence = g_strdup (event->detail);
      t->since = event->time;
      g_ptr_array_add (self->threats, t);
    }
  rule = moat_policy_match (moat_policy_manager_get_policy (self->policy), threat, severity);
  if (rule != NULL)
    g_info ("Threat %s (%s) on “%s”: the policy's rule on line %u applies", threat,
            moat_severity_to_string (severity), subject, rule->line);
  else
    g_info ("Threat %s (%s) on “%s”: the policy has no rule for it", threat,
            moat_severity_to_string (severity), subject);
  threats_changed (self);
  moat_responder_threat_raised (self->responder, threat, severity, subject);
  return TRUE;
}

/**
 * moat_engine_clear_threat:
 *
 * The detector no longer sees @threat on @subject: it leaves the active
 * threats and a "cleared" event is recorded.
 *
 * Returns: %FALSE with MOAT_ERROR_NOT_FOUND when it was not active
 */
gboolean
moat_engine_clear_threat (MoatEngine  *self,
                          const char  *threat,
                          const char  *subject,
                          GError     **error)
{
  g_autoptr(MoatEvent) event = NULL;
  MoatThreat *known;
  guint index;

  g_return_val_if_fail (MOAT_IS_ENGINE (self), FALSE);
  g_return_val_if_fail (threat != NULL && subject != NULL, FALSE);

  known = find_threat (self, threat, subject, &index);
  if (known == NULL)
    {
      g_set_error (error, MOAT_ERROR, MOAT_ERROR_NOT_FOUND, "“%s” on “%s” is not active",
                   threat, subject);
      return FALSE;
    }
  event = moat_event_new (MOAT_EVENT_SOURCE_DETECTOR, threat, MOAT_SEVERITY_INFO, subject,
                          "cleared", "{}");
  /* Cleared even when the event cannot be recorded: the threat is gone. */
  if (!moat_engine_record_event (self, event, NULL))
    g_warning ("Could not record that %s on “%s” cleared", threat, subject);
  moat_responder_threat_cleared (self->responder, threat, subject);
  g_ptr_array_remove_index (self->threats, index);
  threats_changed (self);
  return TRUE;
}

/**
 * moat_engine_get_threats:
 *
 * Returns: (transfer none) (element-type MoatThreat): the active threats,
 *   oldest first
 */
GPtrArray *
moat_engine_get_threats (MoatEngine *self)
{
  g_return_val_if_fail (MOAT_IS_ENGINE (self), NULL);
  return self->threats;
}

MoatRiskLevel
moat_engine_compute_risk_level (const MoatActiveThreat *threats,
                                gsize                   n_threats)
{
  MoatRiskLevel level = MOAT_RISK_LEVEL_NONE;

  g_return_val_if_fail (threats != NULL || n_threats == 0, MOAT_RISK_LEVEL_NONE);

  for (gsize i = 0; i < n_threats; i++)
    {
      MoatRiskLevel item;

      if (threats[i].threat == NULL || !moat_threat_id_is_valid (threats[i].threat))
        continue;
      if ((guint) threats[i].severity >= MOAT_SEVERITY_LAST)
        continue;
      item = moat_risk_level_from_severity (threats[i].severity);
      level = MAX (level, item);
    }
  return level;
}
