/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-engine"

#include "config.h"

#include "moat-detectors.h"

#include "moat-dns-probe.h"
#include "moat-gateway-probe.h"
#include "moat-http-probe.h"
#include "moat-tls-probe.h"
#include "moat-trust-store.h"
#include "moat-wifi-check.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <string.h>

/* What a raised threat is, to know when to clear it. */
typedef struct {
  char     *threat;
  char     *subject;
  char     *detector;       /* the detector whose checks saw it */
  GStrv     checks;         /* the subjects of those checks */
  gboolean  network_scoped;
} Raised;

typedef struct {
  MoatDetectors *self;       /* owned */
  guint          pending;
  GPtrArray     *findings;   /* MoatFinding */
  MoatGateway   *gateway;
  gboolean       gateway_done;   /* the network's name is known */
  GStrv          trust_snapshot;
  GPtrArray     *waiters;    /* GTask */
} Scan;

struct _MoatDetectors
{
  GObject           parent_instance;

  GSettings        *settings;
  MoatNmNetwork    *network;
  GNetworkMonitor  *monitor;
  char             *state_path;
  char             *policy_vpn;
  GCancellable     *cancellable;

  gboolean          automatic;
  guint             settle_id;
  guint             schedule_id;
  guint             portal_id;

  Scan             *scan;           /* the scan running, or NULL */
  gboolean          again;          /* a trigger came while a scan ran */
  GPtrArray        *findings;       /* MoatTimedFinding, of the last scan */
  GHashTable       *raised;         /* "threat\nsubject" → Raised */
  char             *network_name;
  gint64            safe_since;
  gboolean          masked;         /* a VPN Moat raised carries the traffic */

  /* Baselines, from the state file. */
  gboolean          state_loaded;
  GStrv             trust_baseline;
  GHashTable       *gateway_macs;   /* "GATEWAY on IFACE" → MAC */
  gboolean          state_write_in_flight;
  gboolean          state_dirty;
};

G_DEFINE_FINAL_TYPE (MoatDetectors, moat_detectors, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_SAFE_SINCE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  SIGNAL_RAISE,
  SIGNAL_CLEAR,
  SIGNAL_FINDINGS_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void start_scan (MoatDetectors *self, GTask *waiter);

void
moat_timed_finding_free (MoatTimedFinding *timed)
{
  if (timed == NULL)
    return;
  moat_finding_free (timed->finding);
  g_free (timed);
}

static void
raised_free (Raised *raised)
{
  g_free (raised->threat);
  g_free (raised->subject);
  g_free (raised->detector);
  g_strfreev (raised->checks);
  g_free (raised);
}

/* The checks that speak for the network this computer is on. */
static gboolean
is_network_detector (const char *detector)
{
  return g_str_equal (detector, "tls") || g_str_equal (detector, "dns") ||
         g_str_equal (detector, "http") || g_str_equal (detector, "gateway");
}

/* ---- state file ---- */

static void write_state (MoatDetectors *self);

static void
state_written_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(MoatDetectors) self = user_data;
  g_autoptr(GError) error = NULL;

  self->state_write_in_flight = FALSE;
  if (!g_file_replace_contents_finish (G_FILE (object), result, NULL, &error))
    {
      if (g_cancellable_is_cancelled (self->cancellable))
        return;
      g_warning ("Cannot save the network checks' baselines to %s: %s", self->state_path,
                 error->message);
    }
  if (self->state_dirty)
    write_state (self);
}

static void
write_state (MoatDetectors *self)
{
  g_autoptr(GFile) file = g_file_new_for_path (self->state_path);
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GBytes) bytes = NULL;
  GHashTableIter iter;
  gpointer key, value;
  char *text;

  self->state_dirty = FALSE;
  self->state_write_in_flight = TRUE;
  json_builder_begin_object (builder);
  if (self->trust_baseline != NULL)
    {
      json_builder_set_member_name (builder, "trust_baseline");
      json_builder_begin_array (builder);
      for (guint i = 0; self->trust_baseline[i] != NULL; i++)
        json_builder_add_string_value (builder, self->trust_baseline[i]);
      json_builder_end_array (builder);
    }
  json_builder_set_member_name (builder, "gateways");
  json_builder_begin_object (builder);
  g_hash_table_iter_init (&iter, self->gateway_macs);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      json_builder_set_member_name (builder, key);
      json_builder_add_string_value (builder, value);
    }
  json_builder_end_object (builder);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  text = json_generator_to_data (generator, NULL);
  bytes = g_bytes_new_take (text, strlen (text));
  g_file_replace_contents_bytes_async (file, bytes, NULL, FALSE, G_FILE_CREATE_PRIVATE,
                                       self->cancellable, state_written_cb, g_object_ref (self));
}

static void
save_state (MoatDetectors *self)
{
  if (self->state_write_in_flight)
    self->state_dirty = TRUE;
  else
    write_state (self);
}

static void
state_loaded_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(MoatDetectors) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree char *contents = NULL;
  gsize length = 0;
  JsonNode *root;

  if (g_cancellable_is_cancelled (self->cancellable))
    return;
  self->state_loaded = TRUE;
  if (!g_file_load_contents_finish (G_FILE (object), result, &contents, &length, NULL, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        g_warning ("Cannot read %s: %s", self->state_path, error->message);
    }
  else if (!json_parser_load_from_data (parser, contents, length, NULL) ||
           (root = json_parser_get_root (parser)) == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_warning ("Ignoring %s: it is not a JSON object", self->state_path);
    }
  else
    {
      JsonObject *object_root = json_node_get_object (root);
      JsonNode *trust = json_object_get_member (object_root, "trust_baseline");
      JsonNode *gateways = json_object_get_member (object_root, "gateways");

      if (trust != NULL && JSON_NODE_HOLDS_ARRAY (trust))
        {
          JsonArray *array = json_node_get_array (trust);
          g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

          for (guint i = 0; i < json_array_get_length (array); i++)
            {
              const char *fp = json_node_get_string (json_array_get_element (array, i));

              if (fp != NULL)
                g_strv_builder_add (builder, fp);
            }
          self->trust_baseline = g_strv_builder_end (builder);
        }
      if (gateways != NULL && JSON_NODE_HOLDS_OBJECT (gateways))
        {
          JsonObjectIter iter;
          const char *name;
          JsonNode *node;

          json_object_iter_init (&iter, json_node_get_object (gateways));
          while (json_object_iter_next (&iter, &name, &node))
            if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_string (node) != NULL)
              g_hash_table_insert (self->gateway_macs, g_strdup (name),
                                   g_strdup (json_node_get_string (node)));
        }
    }
  if (self->automatic)
    start_scan (self, NULL);
}

/* ---- one scan ---- */

static void
scan_free (Scan *scan)
{
  g_object_unref (scan->self);
  g_ptr_array_unref (scan->findings);
  moat_gateway_free (scan->gateway);
  g_strfreev (scan->trust_snapshot);
  g_ptr_array_unref (scan->waiters);
  g_free (scan);
}

static gboolean
finding_is_captive_portal (const MoatFinding *finding)
{
  g_autoptr(JsonParser) parser = NULL;
  JsonNode *root;

  if (!g_str_equal (finding->detector, "http") || finding->evidence == NULL)
    return FALSE;
  parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, finding->evidence, -1, NULL))
    return FALSE;
  root = json_parser_get_root (parser);
  return root != NULL && JSON_NODE_HOLDS_OBJECT (root) &&
         json_object_get_boolean_member_with_default (json_node_get_object (root),
                                                      "captive_portal", FALSE);
}

static char *
network_name (MoatDetectors *self, Scan *scan)
{
  /* Through Moat's own VPN the checks see the tunnel: the network is still
   * the one the threat was seen on. */
  if (self->masked && self->network_name != NULL)
    return g_strdup (self->network_name);
  if (scan->gateway != NULL)
    /* TRANSLATORS: a network this computer is on, by its device and gateway */
    return g_strdup_printf (_("the network on %s via %s"), scan->gateway->interface,
                            scan->gateway->address);
  return g_strdup (_("this network"));
}

static void
add_check (JsonBuilder *builder, const MoatFinding *finding)
{
  g_autoptr(JsonParser) parser = json_parser_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "detector");
  json_builder_add_string_value (builder, finding->detector);
  json_builder_set_member_name (builder, "subject");
  json_builder_add_string_value (builder, finding->subject);
  json_builder_set_member_name (builder, "summary");
  json_builder_add_string_value (builder, finding->summary);
  if (finding->evidence != NULL &&
      json_parser_load_from_data (parser, finding->evidence, -1, NULL) &&
      json_parser_get_root (parser) != NULL)
    {
      json_builder_set_member_name (builder, "evidence");
      json_builder_add_value (builder, json_node_copy (json_parser_get_root (parser)));
    }
  json_builder_end_object (builder);
}

typedef struct {
  char         *threat;
  char         *subject;
  char         *detector;
  gboolean      network_scoped;
  MoatSeverity  severity;
  GPtrArray    *findings;   /* unowned MoatFinding */
} Group;

static void
group_free (Group *group)
{
  g_free (group->threat);
  g_free (group->subject);
  g_free (group->detector);
  g_ptr_array_unref (group->findings);
  g_free (group);
}

static gboolean
portal_retry_cb (gpointer user_data)
{
  MoatDetectors *self = user_data;

  self->portal_id = 0;
  start_scan (self, NULL);
  return G_SOURCE_REMOVE;
}

static void
scan_complete (Scan *scan)
{
  MoatDetectors *self = scan->self;
  g_autoptr(GHashTable) groups = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                        (GDestroyNotify) group_free);
  g_autoptr(GHashTable) clean_detectors = g_hash_table_new (g_str_hash, g_str_equal);
  /* "detector\nsubject" → the worst result of that check in this scan */
  g_autoptr(GHashTable) results = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GPtrArray) gone = g_ptr_array_new ();
  g_autofree char *name = network_name (self, scan);
  gboolean captive = FALSE;
  gboolean any_clean = FALSE;
  gboolean network_threat = FALSE;
  gboolean state_changed = FALSE;
  gint64 now = g_get_real_time ();
  GHashTableIter iter;
  gpointer key, value;

  for (guint i = 0; i < scan->findings->len; i++)
    captive = captive || finding_is_captive_portal (g_ptr_array_index (scan->findings, i));

  for (guint i = 0; i < scan->findings->len; i++)
    {
      MoatFinding *f = g_ptr_array_index (scan->findings, i);
      gboolean scoped = is_network_detector (f->detector);
      g_autofree char *gkey = NULL;
      Group *group;

      /* A portal answers every name with itself until the user signs in. */
      if (captive && f->result == MOAT_FINDING_THREAT && g_str_equal (f->detector, "dns"))
        {
          g_autofree char *summary =
            g_strdup_printf ("%s %s", f->summary,
                             _("A captive portal is in the way: Moat checks again once it is "
                               "passed."));

          f->result = MOAT_FINDING_INCONCLUSIVE;
          g_clear_pointer (&f->threat, g_free);
          f->severity = MOAT_SEVERITY_INFO;
          g_free (f->summary);
          f->summary = g_steal_pointer (&summary);
        }
      {
        char *rkey = g_strconcat (f->detector, "\n", f->subject, NULL);
        gpointer old = NULL;
        int rank = f->result == MOAT_FINDING_THREAT ? 3 :
                   f->result == MOAT_FINDING_INCONCLUSIVE ? 2 : 1;

        if (g_hash_table_lookup_extended (results, rkey, NULL, &old))
          rank = MAX (rank, GPOINTER_TO_INT (old));
        g_hash_table_replace (results, rkey, GINT_TO_POINTER (rank));
      }
      if (f->result == MOAT_FINDING_CLEAN)
        {
          /* Only a check of the network itself can say it is safe. */
          any_clean = any_clean || scoped;
          g_hash_table_add (clean_detectors, f->detector);
        }
      if (f->result != MOAT_FINDING_THREAT)
        continue;

      gkey = g_strconcat (f->threat, "\n", scoped ? name : f->subject, NULL);
      group = g_hash_table_lookup (groups, gkey);
      if (group == NULL)
        {
          group = g_new0 (Group, 1);
          group->threat = g_strdup (f->threat);
          group->subject = g_strdup (scoped ? name : f->subject);
          group->detector = g_strdup (f->detector);
          group->network_scoped = scoped;
          group->findings = g_ptr_array_new ();
          g_hash_table_insert (groups, g_steal_pointer (&gkey), group);
        }
      group->severity = MAX (group->severity, f->severity);
      g_ptr_array_add (group->findings, f);
    }

  /* Raise what is seen. */
  g_hash_table_iter_init (&iter, groups);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      Group *group = value;
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonGenerator) generator = json_generator_new ();
      g_autoptr(JsonNode) root = NULL;
      g_autofree char *evidence = NULL;

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "network");
      json_builder_add_string_value (builder, name);
      json_builder_set_member_name (builder, "checks");
      json_builder_begin_array (builder);
      for (guint i = 0; i < group->findings->len; i++)
        add_check (builder, g_ptr_array_index (group->findings, i));
      json_builder_end_array (builder);
      json_builder_end_object (builder);
      root = json_builder_get_root (builder);
      json_generator_set_root (generator, root);
      evidence = json_generator_to_data (generator, NULL);

      {
        Raised *raised = g_new0 (Raised, 1);
        g_autoptr(GStrvBuilder) checks = g_strv_builder_new ();

        for (guint i = 0; i < group->findings->len; i++)
          g_strv_builder_add (checks, ((MoatFinding *) g_ptr_array_index (group->findings,
                                                                         i))->subject);
        raised->threat = g_strdup (group->threat);
        raised->subject = g_strdup (group->subject);
        raised->detector = g_strdup (group->detector);
        raised->checks = g_strv_builder_end (checks);
        raised->network_scoped = group->network_scoped;
        g_hash_table_replace (self->raised, g_strdup (key), raised);
      }
      network_threat = network_threat || g_str_has_prefix (group->threat, "network.");
      g_signal_emit (self, signals[SIGNAL_RAISE], 0, group->threat, (int) group->severity,
                     group->subject, evidence);
    }

  /* Clear what is no longer seen: the checks that saw it found it clean,
   * or this computer left the network it was on. */
  g_hash_table_iter_init (&iter, self->raised);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      Raised *raised = value;

      if (g_hash_table_contains (groups, key))
        continue;
      /* Clean checks through Moat's VPN say nothing of the network under it:
       * its threats stay until this computer leaves that network. */
      if (raised->network_scoped && self->masked)
        continue;
      if (raised->network_scoped && g_strcmp0 (raised->subject, name) != 0)
        {
          g_ptr_array_add (gone, key);   /* this computer left that network */
          continue;
        }
      /* Its detector ran and found something clean, and each check that saw
       * the threat is clean now or gone; an inconclusive one keeps it. */
      if (g_hash_table_contains (clean_detectors, raised->detector))
        {
          gboolean all_clean = TRUE;

          for (guint i = 0; raised->checks[i] != NULL; i++)
            {
              g_autofree char *rkey = g_strconcat (raised->detector, "\n", raised->checks[i],
                                                   NULL);
              gpointer rank = NULL;

              if (g_hash_table_lookup_extended (results, rkey, NULL, &rank) &&
                  GPOINTER_TO_INT (rank) != 1)
                all_clean = FALSE;
            }
          if (all_clean)
            g_ptr_array_add (gone, key);
        }
    }
  for (guint i = 0; i < gone->len; i++)
    {
      Raised *raised = g_hash_table_lookup (self->raised, g_ptr_array_index (gone, i));

      g_signal_emit (self, signals[SIGNAL_CLEAR], 0, raised->threat, raised->subject);
      g_hash_table_remove (self->raised, g_ptr_array_index (gone, i));
    }
  /* Network threats raised before that are still active keep it unsafe. */
  g_hash_table_iter_init (&iter, self->raised);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    network_threat = network_threat || g_str_has_prefix (((Raised *) value)->threat, "network.");

  /* Baselines: the first trust store seen, each network's gateway MAC. */
  if (scan->trust_snapshot != NULL && self->trust_baseline == NULL)
    {
      self->trust_baseline = g_steal_pointer (&scan->trust_snapshot);
      state_changed = TRUE;
    }
  if (scan->gateway != NULL && scan->gateway->mac != NULL && scan->gateway->shared_with == NULL)
    {
      g_autofree char *subject = g_strdup_printf ("%s on %s", scan->gateway->address,
                                                  scan->gateway->interface);

      if (!g_hash_table_contains (self->gateway_macs, subject))
        {
          g_hash_table_insert (self->gateway_macs, g_steal_pointer (&subject),
                               g_strdup (scan->gateway->mac));
          state_changed = TRUE;
        }
    }
  if (state_changed && self->state_path != NULL)
    save_state (self);

  /* The findings of this scan, for GetFindings. */
  g_ptr_array_set_size (self->findings, 0);
  for (guint i = 0; i < scan->findings->len; i++)
    {
      MoatTimedFinding *timed = g_new0 (MoatTimedFinding, 1);

      timed->finding = moat_finding_copy (g_ptr_array_index (scan->findings, i));
      timed->time = now;
      g_ptr_array_add (self->findings, timed);
    }

  if (g_strcmp0 (self->network_name, name) != 0)
    {
      g_free (self->network_name);
      self->network_name = g_steal_pointer (&name);
      self->safe_since = 0;
    }
  if (network_threat && self->safe_since != 0)
    {
      self->safe_since = 0;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SAFE_SINCE]);
    }
  else if (!network_threat && any_clean && self->safe_since == 0 && !self->masked)
    {
      self->safe_since = now;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SAFE_SINCE]);
    }

  g_clear_handle_id (&self->portal_id, g_source_remove);
  if (captive && self->automatic)
    self->portal_id = g_timeout_add_seconds (MOAT_DETECTORS_PORTAL_RETRY_S, portal_retry_cb, self);

  g_signal_emit (self, signals[SIGNAL_FINDINGS_CHANGED], 0);
  for (guint i = 0; i < scan->waiters->len; i++)
    {
      GTask *task = g_ptr_array_index (scan->waiters, i);
      GPtrArray *copy = g_ptr_array_new_with_free_func ((GDestroyNotify) moat_timed_finding_free);

      for (guint j = 0; j < self->findings->len; j++)
        {
          const MoatTimedFinding *t = g_ptr_array_index (self->findings, j);
          MoatTimedFinding *c = g_new0 (MoatTimedFinding, 1);

          c->finding = moat_finding_copy (t->finding);
          c->time = t->time;
          g_ptr_array_add (copy, c);
        }
      g_task_return_pointer (task, copy, (GDestroyNotify) g_ptr_array_unref);
    }
  g_info ("Network check of %s: %u findings%s", self->network_name, scan->findings->len,
          captive ? ", behind a captive portal" : "");
}

/* A threat is raised as soon as its check sees it, not when the slowest
 * check of the scan is done (under ARP spoofing every other check times
 * out). DNS threats wait for the scan: a captive portal seen by the HTTP
 * check may hold them. scan_complete () raises again with all the evidence. */
static void
raise_early (Scan *scan, GPtrArray *findings)
{
  MoatDetectors *self = scan->self;
  g_autofree char *name = NULL;

  for (guint i = 0; findings != NULL && i < findings->len; i++)
    {
      const MoatFinding *f = g_ptr_array_index (findings, i);
      gboolean scoped = is_network_detector (f->detector);
      g_autoptr(JsonBuilder) builder = NULL;
      g_autoptr(JsonGenerator) generator = NULL;
      g_autoptr(JsonNode) root = NULL;
      g_autofree char *evidence = NULL;

      if (f->result != MOAT_FINDING_THREAT || g_str_equal (f->detector, "dns"))
        continue;
      /* The network's name comes from the gateway check. */
      if (scoped && !scan->gateway_done)
        continue;
      if (name == NULL)
        name = network_name (self, scan);
      builder = json_builder_new ();
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "network");
      json_builder_add_string_value (builder, name);
      json_builder_set_member_name (builder, "checks");
      json_builder_begin_array (builder);
      add_check (builder, f);
      json_builder_end_array (builder);
      json_builder_end_object (builder);
      root = json_builder_get_root (builder);
      generator = json_generator_new ();
      json_generator_set_root (generator, root);
      evidence = json_generator_to_data (generator, NULL);
      g_signal_emit (self, signals[SIGNAL_RAISE], 0, f->threat, (int) f->severity,
                     scoped ? name : f->subject, evidence);
    }
}

static void
scan_part_done (Scan *scan, GPtrArray *findings, GError *error)
{
  MoatDetectors *self = scan->self;

  if (findings != NULL && !g_cancellable_is_cancelled (self->cancellable))
    raise_early (scan, findings);
  if (findings != NULL)
    for (guint i = 0; i < findings->len; i++)
      g_ptr_array_add (scan->findings, moat_finding_copy (g_ptr_array_index (findings, i)));
  else if (error != NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_warning ("A network check could not run: %s", error->message);

  if (--scan->pending > 0)
    return;
  if (g_cancellable_is_cancelled (self->cancellable))
    {
      for (guint i = 0; i < scan->waiters->len; i++)
        g_task_return_new_error (g_ptr_array_index (scan->waiters, i), G_IO_ERROR,
                                 G_IO_ERROR_CANCELLED, "Moat is shutting down");
      scan_free (scan);
      return;
    }
  self->scan = NULL;
  scan_complete (scan);
  scan_free (scan);
  if (self->again)
    {
      self->again = FALSE;
      start_scan (self, NULL);
    }
}

static void
tls_done_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) findings = moat_tls_probe_run_finish (result, &error);

  scan_part_done (user_data, findings, error);
}

static void
dns_done_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) findings = moat_dns_probe_run_finish (result, &error);

  scan_part_done (user_data, findings, error);
}

static void
http_done_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) findings = moat_http_probe_run_finish (result, &error);

  scan_part_done (user_data, findings, error);
}

static void
gateway_done_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  Scan *scan = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) findings = moat_gateway_probe_run_finish (result, &scan->gateway, &error);

  scan->gateway_done = TRUE;
  /* The network has a name now: what the other checks saw can be raised. */
  raise_early (scan, scan->findings);
  scan_part_done (scan, findings, error);
}

static void
trust_done_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  Scan *scan = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) findings = moat_trust_store_check_finish (result, &scan->trust_snapshot,
                                                                 &error);

  scan_part_done (scan, findings, error);
}

/* A setting that cannot be used is a finding, not a silent skip. */
static void
add_config_problem (Scan *scan, const char *detector, const char *message)
{
  g_autofree char *summary = g_strdup_printf (_("Moat’s settings for this check are wrong: %s"),
                                              message);

  g_ptr_array_add (scan->findings, moat_finding_new_inconclusive (detector, "settings", summary));
}

static void
start_scan (MoatDetectors *self, GTask *waiter)
{
  g_auto(GStrv) tls_targets = g_settings_get_strv (self->settings, "tls-probe-targets");
  g_auto(GStrv) pinned = g_settings_get_strv (self->settings, "dns-probe-pinned");
  g_auto(GStrv) http_targets = g_settings_get_strv (self->settings, "http-probe-targets");
  g_auto(GStrv) known_wifi = g_settings_get_strv (self->settings, "known-wifi-networks");
  g_auto(GStrv) known_vpns = g_settings_get_strv (self->settings, "known-vpn-connections");
  g_autofree char *ca_file = g_settings_get_string (self->settings, "tls-probe-ca-file");
  g_autofree char *zone = g_settings_get_string (self->settings, "dns-probe-nxdomain-zone");
  g_autoptr(MoatTlsProbeOptions) tls = moat_tls_probe_options_new ();
  g_autoptr(MoatDnsProbeOptions) dns = moat_dns_probe_options_new ();
  g_autoptr(MoatHttpProbeOptions) http = moat_http_probe_options_new ();
  g_autoptr(MoatNetworkState) state = NULL;
  g_autoptr(GPtrArray) wifi = NULL;
  g_autoptr(GError) error = NULL;
  gboolean dns_wanted = FALSE;
  Scan *scan;

  g_clear_handle_id (&self->settle_id, g_source_remove);
  g_clear_handle_id (&self->portal_id, g_source_remove);
  if (self->scan != NULL)
    {
      if (waiter != NULL)
        g_ptr_array_add (self->scan->waiters, waiter);
      else
        self->again = TRUE;
      return;
    }

  scan = g_new0 (Scan, 1);
  scan->self = g_object_ref (self);
  scan->findings = g_ptr_array_new_with_free_func ((GDestroyNotify) moat_finding_free);
  scan->waiters = g_ptr_array_new_with_free_func (g_object_unref);
  if (waiter != NULL)
    g_ptr_array_add (scan->waiters, waiter);
  self->scan = scan;
  /* Held until every part has been started, so that none completes it early. */
  scan->pending = 1;

  /* The gateway and the trust store need no settings. */
  scan->pending++;
  moat_gateway_probe_run_async (NULL, NULL, self->gateway_macs, self->cancellable,
                                gateway_done_cb, scan);
  scan->pending++;
  moat_trust_store_check_async (NULL, (const char * const *) self->trust_baseline,
                                self->cancellable, trust_done_cb, scan);

  for (guint i = 0; tls_targets[i] != NULL; i++)
    if (!moat_tls_probe_options_add_target_spec (tls, tls_targets[i], &error))
      {
        add_config_problem (scan, "tls", error->message);
        g_clear_error (&error);
      }
  if (ca_file[0] != '\0')
    moat_tls_probe_options_set_ca_file (tls, ca_file);
  if (moat_tls_probe_options_get_n_targets (tls) > 0)
    {
      scan->pending++;
      moat_tls_probe_run_async (tls, self->cancellable, tls_done_cb, scan);
    }

  for (guint i = 0; pinned[i] != NULL; i++)
    {
      if (moat_dns_probe_options_add_pinned (dns, pinned[i], &error))
        dns_wanted = TRUE;
      else
        {
          add_config_problem (scan, "dns", error->message);
          g_clear_error (&error);
        }
    }
  if (zone[0] != '\0')
    {
      if (moat_dns_probe_options_set_nxdomain_zone (dns, zone, &error))
        dns_wanted = TRUE;
      else
        {
          add_config_problem (scan, "dns", error->message);
          g_clear_error (&error);
        }
    }
  if (dns_wanted)
    {
      scan->pending++;
      moat_dns_probe_run_async (dns, self->cancellable, dns_done_cb, scan);
    }

  for (guint i = 0; http_targets[i] != NULL; i++)
    if (!moat_http_probe_options_add_target (http, http_targets[i], &error))
      {
        add_config_problem (scan, "http", error->message);
        g_clear_error (&error);
      }
  if (http_targets[0] != NULL)
    {
      scan->pending++;
      moat_http_probe_run_async (http, self->cancellable, http_done_cb, scan);
    }

  /* Wi-Fi and VPN: what NetworkManager already knows, judged here. */
  state = self->network != NULL ? moat_nm_network_get_state (self->network)
                                : moat_network_state_new ();
  wifi = moat_wifi_check (state, (const char * const *) known_wifi,
                          (const char * const *) known_vpns, self->policy_vpn, &error);
  if (wifi == NULL)
    {
      add_config_problem (scan, "wifi", error->message);
      g_clear_error (&error);
    }
  scan_part_done (scan, wifi, NULL);
}

/* ---- triggers ---- */

static gboolean
settle_cb (gpointer user_data)
{
  MoatDetectors *self = user_data;

  self->settle_id = 0;
  start_scan (self, NULL);
  return G_SOURCE_REMOVE;
}

/* The network changed: check it once it has settled. */
static void
network_changed (MoatDetectors *self)
{
  if (!self->automatic || !self->state_loaded ||
      !g_settings_get_boolean (self->settings, "network-checks-enabled"))
    return;
  g_clear_handle_id (&self->settle_id, g_source_remove);
  self->settle_id = g_timeout_add (MOAT_DETECTORS_SETTLE_MS, settle_cb, self);
}

static void
on_monitor_changed_cb (GNetworkMonitor *monitor,
                       gboolean         available,
                       MoatDetectors   *self)
{
  network_changed (self);
}

static void
on_nm_changed_cb (MoatNmNetwork *network,
                  MoatDetectors *self)
{
  network_changed (self);
}

static gboolean
schedule_cb (gpointer user_data)
{
  MoatDetectors *self = user_data;

  if (g_settings_get_boolean (self->settings, "network-checks-enabled"))
    start_scan (self, NULL);
  return G_SOURCE_CONTINUE;
}

static void
reschedule (MoatDetectors *self)
{
  guint minutes = g_settings_get_uint (self->settings, "detect-interval-minutes");

  g_clear_handle_id (&self->schedule_id, g_source_remove);
  if (self->automatic)
    self->schedule_id = g_timeout_add_seconds (MAX (minutes, 1) * 60, schedule_cb, self);
}

static void
on_settings_changed_cb (GSettings     *settings,
                        const char    *key,
                        MoatDetectors *self)
{
  if (g_str_equal (key, "detect-interval-minutes"))
    reschedule (self);
}

/* ---- GObject ---- */

static void
moat_detectors_dispose (GObject *object)
{
  MoatDetectors *self = MOAT_DETECTORS (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->settle_id, g_source_remove);
  g_clear_handle_id (&self->schedule_id, g_source_remove);
  g_clear_handle_id (&self->portal_id, g_source_remove);
  if (self->monitor != NULL)
    g_signal_handlers_disconnect_by_data (self->monitor, self);
  if (self->network != NULL)
    g_signal_handlers_disconnect_by_data (self->network, self);
  if (self->settings != NULL)
    g_signal_handlers_disconnect_by_data (self->settings, self);
  g_clear_object (&self->monitor);
  g_clear_object (&self->network);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (moat_detectors_parent_class)->dispose (object);
}

static void
moat_detectors_finalize (GObject *object)
{
  MoatDetectors *self = MOAT_DETECTORS (object);

  g_clear_object (&self->cancellable);
  g_free (self->state_path);
  g_free (self->policy_vpn);
  g_free (self->network_name);
  g_ptr_array_unref (self->findings);
  g_hash_table_unref (self->raised);
  g_hash_table_unref (self->gateway_macs);
  g_strfreev (self->trust_baseline);

  G_OBJECT_CLASS (moat_detectors_parent_class)->finalize (object);
}

static void
moat_detectors_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  MoatDetectors *self = MOAT_DETECTORS (object);

  switch (prop_id)
    {
    case PROP_SAFE_SINCE:
      g_value_set_int64 (value, self->safe_since);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
moat_detectors_class_init (MoatDetectorsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = moat_detectors_dispose;
  object_class->finalize = moat_detectors_finalize;
  object_class->get_property = moat_detectors_get_property;

  properties[PROP_SAFE_SINCE] =
    g_param_spec_int64 ("safe-since", NULL, "Since when the network has been safe (µs), or 0",
                        0, G_MAXINT64, 0,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SIGNAL_RAISE] =
    g_signal_new ("raise", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 4, G_TYPE_STRING, G_TYPE_INT, G_TYPE_STRING, G_TYPE_STRING);
  signals[SIGNAL_CLEAR] =
    g_signal_new ("clear", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
  signals[SIGNAL_FINDINGS_CHANGED] =
    g_signal_new ("findings-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
moat_detectors_init (MoatDetectors *self)
{
  self->cancellable = g_cancellable_new ();
  self->findings = g_ptr_array_new_with_free_func ((GDestroyNotify) moat_timed_finding_free);
  self->raised = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                        (GDestroyNotify) raised_free);
  self->gateway_macs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

/**
 * moat_detectors_new:
 * @network: (nullable): NetworkManager, for the Wi-Fi and VPN checks and to
 *   hear of network changes
 * @data_dir: (nullable): where the baselines are kept; %NULL: nowhere
 */
MoatDetectors *
moat_detectors_new (GSettings     *settings,
                    MoatNmNetwork *network,
                    const char    *data_dir)
{
  MoatDetectors *self;

  g_return_val_if_fail (G_IS_SETTINGS (settings), NULL);

  self = g_object_new (MOAT_TYPE_DETECTORS, NULL);
  self->settings = g_object_ref (settings);
  self->network = network != NULL ? g_object_ref (network) : NULL;
  if (data_dir != NULL)
    self->state_path = g_build_filename (data_dir, MOAT_DETECTORS_STATE_FILENAME, NULL);
  g_signal_connect (settings, "changed", G_CALLBACK (on_settings_changed_cb), self);
  return self;
}

/**
 * moat_detectors_start:
 * @automatic: check on network changes and on the schedule; with %FALSE
 *   only moat_detectors_scan_async() checks (moatd --no-network-checks)
 *
 * Reads the baselines and, when @automatic and the network-checks-enabled
 * setting allow, checks the network.
 */
void
moat_detectors_start (MoatDetectors *self,
                      gboolean       automatic)
{
  g_return_if_fail (MOAT_IS_DETECTORS (self));

  self->automatic = automatic && g_settings_get_boolean (self->settings,
                                                          "network-checks-enabled");
  if (automatic)
    {
      self->monitor = g_object_ref (g_network_monitor_get_default ());
      g_signal_connect (self->monitor, "network-changed", G_CALLBACK (on_monitor_changed_cb),
                        self);
      if (self->network != NULL)
        g_signal_connect (self->network, "changed", G_CALLBACK (on_nm_changed_cb), self);
      reschedule (self);
    }
  if (self->state_path != NULL)
    {
      g_autoptr(GFile) file = g_file_new_for_path (self->state_path);

      g_file_load_contents_async (file, self->cancellable, state_loaded_cb, g_object_ref (self));
    }
  else
    {
      self->state_loaded = TRUE;
      if (self->automatic)
        start_scan (self, NULL);
    }
}

/**
 * moat_detectors_set_masked:
 * @masked: a VPN Moat raised carries the traffic now
 *
 * While it does, the checks see the tunnel rather than the network under
 * it: they can still find new threats, but their clean results no longer
 * clear the network's threats (that would take the VPN down, expose the
 * attack again and bring it back up, over and over). Those threats clear
 * when this computer leaves the network.
 */
void
moat_detectors_set_masked (MoatDetectors *self,
                           gboolean       masked)
{
  g_return_if_fail (MOAT_IS_DETECTORS (self));

  self->masked = masked;
}

/* The company VPN the policy names is always expected. */
void
moat_detectors_set_policy_vpn (MoatDetectors *self,
                               const char    *vpn)
{
  g_return_if_fail (MOAT_IS_DETECTORS (self));

  g_free (self->policy_vpn);
  self->policy_vpn = g_strdup (vpn);
}

/**
 * moat_detectors_scan_async:
 *
 * Runs every check now (or joins the scan running) and completes with its
 * findings, after the threats they show were raised and cleared.
 */
void
moat_detectors_scan_async (MoatDetectors       *self,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  GTask *task;

  g_return_if_fail (MOAT_IS_DETECTORS (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, moat_detectors_scan_async);
  start_scan (self, task);
}

/**
 * moat_detectors_scan_finish:
 *
 * Returns: (transfer container) (element-type MoatTimedFinding): the findings
 */
GPtrArray *
moat_detectors_scan_finish (MoatDetectors  *self,
                            GAsyncResult   *result,
                            GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * moat_detectors_get_findings:
 *
 * Returns: (transfer none) (element-type MoatTimedFinding): the last scan's
 *   findings
 */
GPtrArray *
moat_detectors_get_findings (MoatDetectors *self)
{
  g_return_val_if_fail (MOAT_IS_DETECTORS (self), NULL);

  return self->findings;
}

gint64
moat_detectors_get_safe_since (MoatDetectors *self)
{
  g_return_val_if_fail (MOAT_IS_DETECTORS (self), 0);

  return self->safe_since;
}

/* The network the last scan saw, for people; NULL before the first. */
const char *
moat_detectors_get_network_name (MoatDetectors *self)
{
  g_return_val_if_fail (MOAT_IS_DETECTORS (self), NULL);

  return self->network_name;
}
