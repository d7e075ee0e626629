/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-engine"

#include "config.h"

#include "moat-device-manager.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <errno.h>
#include <string.h>

#include "moat-adb-client.h"
#include "moat-adb-protocol.h"
#include "moat-android-inspector.h"
#include "moat-enums.h"
#include "moat-error.h"
#include "moat-ioc.h"
#include "moat-ios-fixture.h"
#include "moat-ios-plist.h"
#include "moat-ios-posture.h"
#include "moat-posture-advice.h"
#ifdef MOAT_HAVE_LIBIMOBILEDEVICE
#include "moat-ios-libimobiledevice.h"
#endif

/* How long an orderly shutdown waits for phones' routing to be undone. */
#define SHUTDOWN_RESTORE_MS 3000
#define ACTION_TIMEOUT_MS 15000
/* usbmuxd is asked for iPhones this often while the phones are followed. */
#define IOS_POLL_MS 5000

#define BUNDLE_SUFFIX ".stix2"
#define DOMAINS_FILE "indicator-domains.list"

typedef struct {
  char               *serial;
  gboolean            ios;           /* an iPhone through usbmuxd, not adb */
  char               *adb_state;     /* as the adb server says ("device" for a
                                      * present iPhone); NULL: gone */
  gboolean            wifi;
  gboolean            checking;
  gboolean            busy;          /* routing or an action in flight */
  gboolean            routing;       /* on, in this session */
  char               *error;         /* the last check's failure */
  MoatAndroidPosture *posture;
  GHashTable         *threats;       /* threat id -> MoatSeverity, active */
  gint64              checked;
  GPtrArray          *waiters;       /* GTask of check_async */
} Device;

/* What to put back on a phone: recorded before anything there changes. */
typedef struct {
  char    *http_proxy;    /* the phone's setting before, NULL when unset */
  guint16  port;          /* the reverse forward's port on the phone */
} Routing;

struct _MoatDeviceManager
{
  GObject        parent_instance;

  char          *data_dir;
  char          *state_path;
  MoatAdbClient *adb;
  MoatIosSource *ios;                /* nullable: no way to reach iPhones */
  guint          ios_poll_id;
  gboolean       ios_polling;
  GCancellable  *cancellable;
  GHashTable    *devices;            /* serial -> Device */
  GHashTable    *routes;             /* serial -> Routing, as on disk */
  char          *proxy_address;
  gboolean       tracking;
  gboolean       listed;             /* the adb server answered once */
  GPtrArray     *list_waiters;       /* GTask of wait_listed_async */
  guint          list_timeout_id;
  gboolean       loaded;
  gboolean       shut_down;
  guint          in_flight;          /* checks, routing, saves */
  gboolean       saving;
  MoatIocSet    *iocs;               /* every imported bundle */
  char          *indicators_dir;
  char          *domains_path;
  GHashTable    *bundle_times;       /* name -> gint64 *: when it was imported */
  GPtrArray     *save_waiters;       /* GTask: done when a save after them is written */
  GPtrArray     *saving_waiters;
};

G_DEFINE_FINAL_TYPE (MoatDeviceManager, moat_device_manager, G_TYPE_OBJECT)

enum {
  SIGNAL_CHANGED,
  SIGNAL_RECORD,
  SIGNAL_INDICATORS_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void check_device (MoatDeviceManager *self, Device *device);

void
moat_device_info_free (MoatDeviceInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->serial);
  g_free (info->platform);
  g_free (info->model);
  g_free (info->os);
  g_free (info->connection);
  g_free (info->state);
  g_free (info->risk);
  g_free (info->message);
  g_free (info);
}

void
moat_device_finding_free (MoatDeviceFinding *finding)
{
  if (finding == NULL)
    return;
  g_free (finding->check);
  g_free (finding->result);
  g_free (finding->threat);
  g_free (finding->severity);
  g_free (finding->summary);
  g_free (finding->why);
  g_free (finding->fix);
  g_free (finding->screen);
  g_strfreev (finding->packages);
  g_free (finding->evidence);
  g_free (finding->command);
  g_free (finding);
}

static void
routing_free (Routing *routing)
{
  g_free (routing->http_proxy);
  g_free (routing);
}

static void
device_free (Device *device)
{
  g_free (device->serial);
  g_free (device->adb_state);
  g_free (device->error);
  g_clear_pointer (&device->posture, moat_android_posture_free);
  g_clear_pointer (&device->threats, g_hash_table_unref);
  g_clear_pointer (&device->waiters, g_ptr_array_unref);
  g_free (device);
}

static Device *
device_get (MoatDeviceManager *self,
            const char        *serial)
{
  Device *device = g_hash_table_lookup (self->devices, serial);

  if (device == NULL)
    {
      device = g_new0 (Device, 1);
      device->serial = g_strdup (serial);
      device->threats = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      device->waiters = g_ptr_array_new_with_free_func (g_object_unref);
      g_hash_table_insert (self->devices, device->serial, device);
    }
  return device;
}

static void
changed (MoatDeviceManager *self)
{
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
}

static void
record (MoatDeviceManager *self,
        const char        *threat,
        MoatSeverity       severity,
        const char        *serial,
        const char        *action,
        JsonBuilder       *detail)
{
  g_autoptr(MoatEvent) event = NULL;
  g_autofree char *text = NULL;

  if (detail != NULL)
    {
      g_autoptr(JsonGenerator) generator = json_generator_new ();
      g_autoptr(JsonNode) root = json_builder_get_root (detail);

      json_generator_set_root (generator, root);
      text = json_generator_to_data (generator, NULL);
    }
  event = moat_event_new (MOAT_EVENT_SOURCE_DEVICE, threat, severity, serial, action,
                          text != NULL ? text : "{}");
  g_signal_emit (self, signals[SIGNAL_RECORD], 0, event);
}

static guint16
proxy_port (MoatDeviceManager *self)
{
  const char *colon = self->proxy_address != NULL ? strrchr (self->proxy_address, ':') : NULL;
  guint64 port = 0;

  if (colon == NULL || !g_ascii_string_to_unsigned (colon + 1, 10, 1, 65535, &port, NULL))
    return 0;
  return (guint16) port;
}

/* At most @max bytes of @bytes as a trimmed string ("" for none). */
static char *
bytes_text (GBytes *bytes,
            gsize   max)
{
  gsize size = 0;
  const char *data = bytes != NULL ? g_bytes_get_data (bytes, &size) : NULL;

  return g_strstrip (g_strndup (data != NULL ? data : "", MIN (size, max)));
}

/* ---- the state file ---- */

static char *
routes_to_json (MoatDeviceManager *self)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  GHashTableIter iter;
  gpointer key, value;

  json_builder_begin_object (b);
  g_hash_table_iter_init (&iter, self->routes);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      Routing *r = value;

      json_builder_set_member_name (b, key);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "http_proxy");
      if (r->http_proxy != NULL)
        json_builder_add_string_value (b, r->http_proxy);
      else
        json_builder_add_null_value (b);
      json_builder_set_member_name (b, "port");
      json_builder_add_int_value (b, r->port);
      json_builder_end_object (b);
    }
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_root (generator, root);
  json_generator_set_pretty (generator, TRUE);
  return json_generator_to_data (generator, NULL);
}

static void save_now (MoatDeviceManager *self);

static void
saved_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(MoatDeviceManager) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) waiters = g_steal_pointer (&self->saving_waiters);

  self->saving = FALSE;
  self->in_flight--;
  if (!g_file_replace_contents_finish (G_FILE (object), result, NULL, &error))
    g_warning ("Could not save %s: %s", self->state_path, error->message);
  for (guint i = 0; i < waiters->len; i++)
    {
      GTask *task = g_ptr_array_index (waiters, i);

      if (error != NULL)
        g_task_return_new_error (task, MOAT_ERROR, MOAT_ERROR_STORE,
                                 _("Moat could not record what it changes on the phone: %s"),
                                 error->message);
      else
        g_task_return_boolean (task, TRUE);
    }
  if (self->save_waiters->len > 0)
    save_now (self);
}

static void
save_now (MoatDeviceManager *self)
{
  g_autoptr(GFile) file = g_file_new_for_path (self->state_path);
  g_autofree char *dir = g_path_get_dirname (self->state_path);
  char *text = routes_to_json (self);
  g_autoptr(GBytes) bytes = g_bytes_new_take (text, strlen (text));

  g_mkdir_with_parents (dir, 0700);
  self->saving = TRUE;
  self->in_flight++;
  self->saving_waiters = g_steal_pointer (&self->save_waiters);
  self->save_waiters = g_ptr_array_new_with_free_func (g_object_unref);
  g_file_replace_contents_bytes_async (file, bytes, NULL, FALSE,
                                       G_FILE_CREATE_PRIVATE | G_FILE_CREATE_REPLACE_DESTINATION,
                                       NULL, saved_cb, g_object_ref (self));
}

/* Writes the routes as they are now; @callback runs once they are on disk. */
static void
save_async (MoatDeviceManager   *self,
            GAsyncReadyCallback  callback,
            gpointer             user_data)
{
  GTask *task = g_task_new (self, NULL, callback, user_data);

  g_ptr_array_add (self->save_waiters, task);
  if (!self->saving)
    save_now (self);
}

static gboolean
save_finish (MoatDeviceManager  *self,
             GAsyncResult       *result,
             GError            **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void start_tracking (MoatDeviceManager *self);
static void load_indicators (MoatDeviceManager *self);

static void
loaded_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(MoatDeviceManager) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree char *contents = NULL;
  gsize length = 0;
  JsonNode *root;

  self->in_flight--;
  self->loaded = TRUE;
  if (!g_file_load_contents_finish (G_FILE (object), result, &contents, &length, NULL, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        g_warning ("Could not read %s: %s", self->state_path, error->message);
      return;
    }
  if (!json_parser_load_from_data (parser, contents, length, &error) ||
      (root = json_parser_get_root (parser)) == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_warning ("%s is not valid: %s", self->state_path,
                 error != NULL ? error->message : "not an object");
      return;
    }
  {
    JsonObject *object_ = json_node_get_object (root);
    g_autoptr(GList) members = json_object_get_members (object_);

    for (GList *l = members; l != NULL; l = l->next)
      {
        JsonNode *node = json_object_get_member (object_, l->data);
        JsonObject *o = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
        Routing *r;
        gint64 port;

        if (o == NULL || !json_object_has_member (o, "port"))
          continue;
        port = json_object_get_int_member_with_default (o, "port", 0);
        if (port <= 0 || port > 65535)
          continue;
        r = g_new0 (Routing, 1);
        r->port = (guint16) port;
        r->http_proxy = g_strdup (json_object_get_string_member_with_default (o, "http_proxy",
                                                                              NULL));
        g_hash_table_replace (self->routes, g_strdup (l->data), r);
        g_info ("Phone %s still routes through Moat from before: undoing it when it is back",
                (const char *) l->data);
      }
  }
  /* Phones left routed by a moatd that did not stop cleanly: follow the adb
   * server at once, to put them back as soon as they are seen. */
  if (g_hash_table_size (self->routes) > 0)
    start_tracking (self);
}

/* ---- findings ---- */

static MoatSeverity
posture_worst (MoatAndroidPosture *posture,
               gboolean           *any)
{
  MoatSeverity worst = MOAT_SEVERITY_INFO;

  *any = FALSE;
  for (guint i = 0; posture != NULL && i < posture->findings->len; i++)
    {
      const MoatPostureFinding *f = g_ptr_array_index (posture->findings, i);

      if (f->result != MOAT_POSTURE_THREAT)
        continue;
      *any = TRUE;
      worst = MAX (worst, f->severity);
    }
  return worst;
}

/* Events for threats that appeared and went since the last check. */
static void
update_threats (MoatDeviceManager *self,
                Device            *device)
{
  g_autoptr(GHashTable) now = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  GHashTableIter iter;
  gpointer key, value;

  for (guint i = 0; i < device->posture->findings->len; i++)
    {
      const MoatPostureFinding *f = g_ptr_array_index (device->posture->findings, i);
      gpointer old;

      if (f->result != MOAT_POSTURE_THREAT || f->threat == NULL)
        continue;
      if (g_hash_table_contains (now, f->threat))
        {
          /* Two checks saw the same threat: keep the worse. */
          old = g_hash_table_lookup (now, f->threat);
          if (GPOINTER_TO_INT (old) >= (int) f->severity)
            continue;
        }
      g_hash_table_replace (now, g_strdup (f->threat), GINT_TO_POINTER (f->severity));
      if (!g_hash_table_lookup_extended (device->threats, f->threat, NULL, &old) ||
          GPOINTER_TO_INT (old) != (int) f->severity)
        {
          g_autoptr(JsonBuilder) b = json_builder_new ();
          g_autoptr(JsonParser) parser = json_parser_new ();

          json_builder_begin_object (b);
          json_builder_set_member_name (b, "check");
          json_builder_add_string_value (b, f->check);
          json_builder_set_member_name (b, "summary");
          json_builder_add_string_value (b, f->summary);
          json_builder_set_member_name (b, "model");
          json_builder_add_string_value (b, device->posture->model);
          json_builder_set_member_name (b, "command");
          json_builder_add_string_value (b, f->command);
          if (json_parser_load_from_data (parser, f->evidence, -1, NULL))
            {
              json_builder_set_member_name (b, "evidence");
              json_builder_add_value (b, json_node_copy (json_parser_get_root (parser)));
            }
          json_builder_end_object (b);
          record (self, f->threat, f->severity, device->serial, "detected", b);
        }
    }
  g_hash_table_iter_init (&iter, device->threats);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (!g_hash_table_contains (now, key))
      record (self, key, MOAT_SEVERITY_INFO, device->serial, "cleared", NULL);
  g_hash_table_remove_all (device->threats);
  g_hash_table_iter_init (&iter, now);
  while (g_hash_table_iter_next (&iter, &key, &value))
    g_hash_table_insert (device->threats, g_strdup (key), value);
}

/* ---- checks ---- */

static void restore_async (MoatDeviceManager *self, const char *serial,
                           GAsyncReadyCallback callback, gpointer user_data);
static gboolean restore_finish (MoatDeviceManager *self, GAsyncResult *result, GError **error);

static void
inspected_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  MoatDeviceManager *self = g_task_get_source_object (task);
  Device *device = g_hash_table_lookup (self->devices, g_task_get_task_data (task));
  g_autoptr(GError) error = NULL;
  g_autoptr(MoatAndroidPosture) posture = moat_android_inspect_finish (result, &error);
  g_autoptr(GPtrArray) waiters = NULL;

  self->in_flight--;
  if (device == NULL)
    return;
  device->checking = FALSE;
  if (posture == NULL)
    {
      g_info ("Checking %s failed: %s", device->serial, error->message);
      g_free (device->error);
      device->error = g_strdup (error->message);
    }
  else
    {
      g_clear_pointer (&device->error, g_free);
      g_clear_pointer (&device->posture, moat_android_posture_free);
      if (posture->packages != NULL)
        {
          GPtrArray *iocs = moat_android_check_iocs (self->iocs, posture->packages);

          g_ptr_array_extend_and_steal (posture->findings, iocs);
        }
      device->posture = g_steal_pointer (&posture);
      device->checked = g_get_real_time ();
      update_threats (self, device);
    }
  waiters = g_steal_pointer (&device->waiters);
  device->waiters = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < waiters->len; i++)
    {
      GTask *waiter = g_ptr_array_index (waiters, i);

      if (device->error != NULL)
        g_task_return_new_error (waiter, MOAT_ERROR, MOAT_ERROR_FAILED, "%s", device->error);
      else
        g_task_return_boolean (waiter, TRUE);
    }
  g_task_return_boolean (task, TRUE);
  changed (self);
}

static void
ios_collected_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  MoatDeviceManager *self = g_task_get_source_object (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(MoatIosSnapshot) snapshot = moat_ios_source_collect_finish (MOAT_IOS_SOURCE (object),
                                                                        result, &error);
  Device *device = g_hash_table_lookup (self->devices, g_task_get_task_data (task));
  g_autoptr(MoatAndroidPosture) posture = NULL;
  GVariant *lockdown;
  const char *type, *version;
  g_autoptr(GPtrArray) waiters = NULL;

  self->in_flight--;
  if (device == NULL || snapshot == NULL)
    {
      g_task_return_boolean (task, FALSE);
      return;
    }
  posture = g_new0 (MoatAndroidPosture, 1);
  posture->serial = g_strdup (device->serial);
  lockdown = snapshot->answers[MOAT_IOS_QUERY_LOCKDOWN];
  type = lockdown != NULL ? moat_ios_plist_lookup_string (lockdown, "ProductType") : NULL;
  version = lockdown != NULL ? moat_ios_plist_lookup_string (lockdown, "ProductVersion") : NULL;
  posture->model = g_strdup_printf ("Apple %s", type != NULL ? type : "iPhone");
  posture->os = version != NULL ? g_strdup_printf (_("iOS %s"), version) : g_strdup ("");
  posture->findings = moat_ios_check_posture (snapshot);
  posture->packages = snapshot->apps != NULL ? moat_ios_apps_to_packages (snapshot->apps) : NULL;
  for (guint q = 0; q < MOAT_IOS_QUERY_LAST; q++)
    posture->failed += snapshot->errors[q] != NULL;
  if (posture->packages != NULL)
    g_ptr_array_extend_and_steal (posture->findings,
                                  moat_android_check_iocs (self->iocs, posture->packages));
  device->checking = FALSE;
  g_clear_pointer (&device->error, g_free);
  g_clear_pointer (&device->posture, moat_android_posture_free);
  device->posture = g_steal_pointer (&posture);
  device->checked = g_get_real_time ();
  update_threats (self, device);
  waiters = g_steal_pointer (&device->waiters);
  device->waiters = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < waiters->len; i++)
    g_task_return_boolean (g_ptr_array_index (waiters, i), TRUE);
  g_task_return_boolean (task, TRUE);
  changed (self);
}

static void
inspect (MoatDeviceManager *self,
         Device            *device)
{
  GTask *task = g_task_new (self, self->cancellable, NULL, NULL);
  g_autofree char *moat_proxy = NULL;

  if (device->ios)
    {
      g_task_set_task_data (task, g_strdup (device->serial), g_free);
      self->in_flight++;
      moat_ios_source_collect_async (self->ios, device->serial, self->cancellable,
                                     ios_collected_cb, task);
      return;
    }
  if (device->routing)
    moat_proxy = g_strdup_printf ("127.0.0.1:%u",
                                  ((Routing *) g_hash_table_lookup (self->routes,
                                                                    device->serial))->port);
  g_task_set_task_data (task, g_strdup (device->serial), g_free);
  self->in_flight++;
  moat_android_inspect_async (self->adb, device->serial, moat_proxy, 0, self->cancellable,
                              inspected_cb, task);
}

static void
restored_before_check_cb (GObject      *object,
                          GAsyncResult *result,
                          gpointer      user_data)
{
  g_autofree char *serial = user_data;
  MoatDeviceManager *self = MOAT_DEVICE_MANAGER (object);
  g_autoptr(GError) error = NULL;
  Device *device;

  if (!restore_finish (self, result, &error))
    g_warning ("Could not put %s's proxy setting back: %s", serial, error->message);
  device = g_hash_table_lookup (self->devices, serial);
  if (device != NULL && device->checking && !self->shut_down)
    inspect (self, device);
}

static void
check_device (MoatDeviceManager *self,
              Device            *device)
{
  if (device->checking || self->shut_down)
    return;
  device->checking = TRUE;
  changed (self);
  /* Left routed by a moatd that crashed, or unplugged while routed: put the
   * phone back first. */
  if (!device->routing && g_hash_table_contains (self->routes, device->serial))
    {
      restore_async (self, device->serial, restored_before_check_cb, g_strdup (device->serial));
      return;
    }
  inspect (self, device);
}

/* ---- following the adb server ---- */

/* Unplugged, or a Wi-Fi phone gone offline: the phone keeps Moat's setting
 * until it is back, and the route stays on disk to be undone then. */
static void
routing_interrupted (MoatDeviceManager *self,
                     Device            *device)
{
  g_autoptr(JsonBuilder) b = NULL;

  if (!device->routing)
    return;
  device->routing = FALSE;
  b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "reason");
  json_builder_add_string_value (b, device->adb_state == NULL ? "unplugged"
                                                              : device->adb_state);
  json_builder_end_object (b);
  record (self, "moat.device_routing", MOAT_SEVERITY_INFO, device->serial,
          "routing-interrupted", b);
}

static void
listed (MoatDeviceManager *self)
{
  g_autoptr(GPtrArray) waiters = g_steal_pointer (&self->list_waiters);

  self->listed = TRUE;
  g_clear_handle_id (&self->list_timeout_id, g_source_remove);
  self->list_waiters = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < waiters->len; i++)
    g_task_return_boolean (g_ptr_array_index (waiters, i), TRUE);
}

static gboolean
list_timeout_cb (gpointer user_data)
{
  MoatDeviceManager *self = user_data;

  self->list_timeout_id = 0;
  /* No answer from the adb server yet: say what is known. */
  listed (self);
  return G_SOURCE_REMOVE;
}

static void
on_devices_changed_cb (MoatAdbClient     *adb,
                       GPtrArray         *list,
                       MoatDeviceManager *self)
{
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  GHashTableIter iter;
  gpointer value;

  if (!self->listed)
    listed (self);

  for (guint i = 0; i < list->len; i++)
    {
      const MoatAdbDevice *d = g_ptr_array_index (list, i);
      Device *device = device_get (self, d->serial);
      gboolean was_ready = g_strcmp0 (device->adb_state, "device") == 0;

      g_hash_table_add (seen, d->serial);
      g_free (device->adb_state);
      device->adb_state = g_strdup (d->state);
      device->wifi = d->wifi;
      if (g_str_equal (d->state, "device") && !was_ready)
        check_device (self, device);
      else if (!g_str_equal (d->state, "device"))
        routing_interrupted (self, device);
    }
  g_hash_table_iter_init (&iter, self->devices);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Device *device = value;

      if (device->ios || g_hash_table_contains (seen, device->serial) ||
          device->adb_state == NULL)
        continue;
      g_clear_pointer (&device->adb_state, g_free);
      routing_interrupted (self, device);
    }
  changed (self);
}

static void
ios_listed_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(MoatDeviceManager) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) list = moat_ios_source_list_devices_finish (MOAT_IOS_SOURCE (object),
                                                                   result, &error);
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  GHashTableIter iter;
  gpointer value;
  gboolean any_change = FALSE;

  self->ios_polling = FALSE;
  if (self->shut_down)
    return;
  if (list == NULL)
    {
      /* No usbmuxd is the normal case without iPhones. */
      g_debug ("Listing iPhones: %s", error->message);
      list = g_ptr_array_new ();
    }
  for (guint i = 0; i < list->len; i++)
    {
      const MoatIosDevice *d = g_ptr_array_index (list, i);
      Device *device = device_get (self, d->udid);
      gboolean was_ready = g_strcmp0 (device->adb_state, "device") == 0;

      g_hash_table_add (seen, d->udid);
      device->ios = TRUE;
      device->wifi = d->connection == MOAT_IOS_CONNECTION_NETWORK;
      if (!was_ready)
        {
          g_free (device->adb_state);
          device->adb_state = g_strdup ("device");
          any_change = TRUE;
          check_device (self, device);
        }
    }
  g_hash_table_iter_init (&iter, self->devices);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Device *device = value;

      if (device->ios && device->adb_state != NULL && !g_hash_table_contains (seen, device->serial))
        {
          g_clear_pointer (&device->adb_state, g_free);
          any_change = TRUE;
        }
    }
  if (any_change)
    changed (self);
}

static gboolean
ios_poll_cb (gpointer user_data)
{
  MoatDeviceManager *self = user_data;

  if (!self->ios_polling)
    {
      self->ios_polling = TRUE;
      moat_ios_source_list_devices_async (self->ios, self->cancellable, ios_listed_cb,
                                          g_object_ref (self));
    }
  return G_SOURCE_CONTINUE;
}

static void
start_tracking (MoatDeviceManager *self)
{
  if (self->tracking || self->shut_down)
    return;
  self->tracking = TRUE;
  if (self->ios != NULL)
    {
      ios_poll_cb (self);
      self->ios_poll_id = g_timeout_add (IOS_POLL_MS, ios_poll_cb, self);
    }
  g_signal_connect_object (self->adb, "devices-changed", G_CALLBACK (on_devices_changed_cb),
                           self, 0);
  moat_adb_client_start_tracking (self->adb);
}

/* ---- public ---- */

static void
moat_device_manager_finalize (GObject *object)
{
  MoatDeviceManager *self = MOAT_DEVICE_MANAGER (object);

  g_cancellable_cancel (self->cancellable);
  if (self->tracking)
    moat_adb_client_stop_tracking (self->adb);
  g_clear_handle_id (&self->ios_poll_id, g_source_remove);
  g_clear_object (&self->adb);
  g_clear_object (&self->ios);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->devices, g_hash_table_unref);
  g_clear_pointer (&self->routes, g_hash_table_unref);
  g_clear_pointer (&self->save_waiters, g_ptr_array_unref);
  g_clear_pointer (&self->saving_waiters, g_ptr_array_unref);
  g_clear_pointer (&self->list_waiters, g_ptr_array_unref);
  g_clear_handle_id (&self->list_timeout_id, g_source_remove);
  g_clear_object (&self->iocs);
  g_free (self->indicators_dir);
  g_free (self->domains_path);
  g_clear_pointer (&self->bundle_times, g_hash_table_unref);
  g_free (self->data_dir);
  g_free (self->state_path);
  g_free (self->proxy_address);

  G_OBJECT_CLASS (moat_device_manager_parent_class)->finalize (object);
}

static void
moat_device_manager_class_init (MoatDeviceManagerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = moat_device_manager_finalize;

  signals[SIGNAL_CHANGED] =
    g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_RECORD] =
    g_signal_new ("record", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, MOAT_TYPE_EVENT);
  signals[SIGNAL_INDICATORS_CHANGED] =
    g_signal_new ("indicators-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
moat_device_manager_init (MoatDeviceManager *self)
{
  self->cancellable = g_cancellable_new ();
  self->devices = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                         (GDestroyNotify) device_free);
  self->routes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                        (GDestroyNotify) routing_free);
  self->save_waiters = g_ptr_array_new_with_free_func (g_object_unref);
  self->list_waiters = g_ptr_array_new_with_free_func (g_object_unref);
}

MoatDeviceManager *
moat_device_manager_new (const char *data_dir,
                         guint16     adb_port)
{
  MoatDeviceManager *self = g_object_new (MOAT_TYPE_DEVICE_MANAGER, NULL);

  self->data_dir = g_strdup (data_dir);
  self->state_path = g_build_filename (data_dir, MOAT_DEVICE_MANAGER_STATE_FILENAME, NULL);
  self->indicators_dir = g_build_filename (data_dir, "indicators", NULL);
  self->domains_path = g_build_filename (self->indicators_dir, DOMAINS_FILE, NULL);
  self->bundle_times = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->iocs = moat_ioc_set_new ();
  self->adb = moat_adb_client_new (adb_port, NULL);
#if MOAT_ENABLE_TEST_API
  /* Tests: an iPhone's recorded answers (tests/fixtures/ios/PROFILE). */
  if (g_getenv ("MOAT_TEST_IOS_FIXTURE") != NULL)
    self->ios = MOAT_IOS_SOURCE (moat_ios_fixture_new (g_getenv ("MOAT_TEST_IOS_FIXTURE")));
#endif
#ifdef MOAT_HAVE_LIBIMOBILEDEVICE
  if (self->ios == NULL)
    self->ios = MOAT_IOS_SOURCE (moat_ios_libimobiledevice_new ());
#endif
  return self;
}

/* ---- indicators of compromise ---- */

/* The domains file the proxy blocks as c2: one host per line. */
static gboolean
write_domains (const char  *dir,
               MoatIocSet  *set,
               GError     **error)
{
  g_auto(GStrv) domains = moat_ioc_set_get_domains (set);
  g_auto(GStrv) addresses = moat_ioc_set_get_addresses (set);
  g_autoptr(GString) text = g_string_new ("! Domains of imported indicators of compromise; "
                                          "written by moatd\n");
  g_autofree char *path = g_build_filename (dir, DOMAINS_FILE, NULL);

  for (guint i = 0; domains != NULL && domains[i] != NULL; i++)
    g_string_append_printf (text, "%s\n", domains[i]);
  /* Servers some bundles name only by address. */
  for (guint i = 0; addresses != NULL && addresses[i] != NULL; i++)
    g_string_append_printf (text, "%s\n", addresses[i]);
  return g_file_set_contents_full (path, text->str, text->len,
                                   G_FILE_SET_CONTENTS_CONSISTENT, 0600, error);
}

typedef struct {
  char       *dir;
  GHashTable *times;
} LoadData;

static void
load_data_free (LoadData *data)
{
  g_free (data->dir);
  g_hash_table_unref (data->times);
  g_free (data);
}

static void
load_indicators_in_thread (GTask        *task,
                           gpointer      source,
                           gpointer      task_data,
                           GCancellable *cancellable)
{
  LoadData *data = task_data;
  const char *dir = data->dir;
  g_autoptr(MoatIocSet) set = moat_ioc_set_new ();
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = NULL;
      g_autofree char *source_name = NULL;
      g_autoptr(GFile) file = NULL;
      g_autoptr(GError) error = NULL;

      if (!g_str_has_suffix (name, BUNDLE_SUFFIX))
        continue;
      path = g_build_filename (dir, name, NULL);
      file = g_file_new_for_path (path);
      source_name = g_strndup (name, strlen (name) - strlen (BUNDLE_SUFFIX));
      {
        g_autoptr(GBytes) bytes = g_file_load_bytes (file, cancellable, NULL, &error);

        g_autoptr(GFileInfo) info = NULL;

        if (bytes == NULL || !moat_ioc_set_load_bytes (set, bytes, source_name, &error))
          {
            g_warning ("Indicators in %s: %s", path, error->message);
            continue;
          }
        info = g_file_query_info (file, G_FILE_ATTRIBUTE_TIME_MODIFIED, G_FILE_QUERY_INFO_NONE,
                                  cancellable, NULL);
        if (info != NULL)
          g_hash_table_replace (data->times, g_strdup (source_name),
                                g_memdup2 (&(gint64) { (gint64) g_file_info_get_attribute_uint64 (
                                             info, G_FILE_ATTRIBUTE_TIME_MODIFIED) *
                                           G_USEC_PER_SEC }, sizeof (gint64)));
      }
    }
  g_task_return_pointer (task, g_steal_pointer (&set), g_object_unref);
}

static void
indicators_loaded_cb (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  MoatDeviceManager *self = MOAT_DEVICE_MANAGER (object);
  LoadData *data = g_task_get_task_data (G_TASK (result));
  g_autoptr(MoatIocSet) set = g_task_propagate_pointer (G_TASK (result), NULL);
  GHashTableIter iter;
  gpointer key, value;

  self->in_flight--;
  if (set == NULL || moat_ioc_set_is_empty (set))
    return;
  g_hash_table_iter_init (&iter, data->times);
  while (g_hash_table_iter_next (&iter, &key, &value))
    g_hash_table_replace (self->bundle_times, g_strdup (key), g_memdup2 (value, sizeof (gint64)));
  moat_ioc_set_merge (self->iocs, set);
  g_info ("%u imported indicators of compromise",
          moat_ioc_set_get_count (self->iocs, MOAT_IOC_KIND_APP_ID) +
          moat_ioc_set_get_count (self->iocs, MOAT_IOC_KIND_DOMAIN));
  g_signal_emit (self, signals[SIGNAL_INDICATORS_CHANGED], 0,
                 moat_device_manager_get_domains_file (self));
}

static void
load_indicators (MoatDeviceManager *self)
{
  g_autoptr(GTask) task = g_task_new (self, self->cancellable, indicators_loaded_cb, NULL);
  LoadData *data = g_new0 (LoadData, 1);

  data->dir = g_strdup (self->indicators_dir);
  data->times = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_task_set_task_data (task, data, (GDestroyNotify) load_data_free);
  self->in_flight++;
  g_task_run_in_thread (task, load_indicators_in_thread);
}

/* The file of indicator domains (written on import). */
const char *
moat_device_manager_get_domains_file (MoatDeviceManager *self)
{
  g_return_val_if_fail (MOAT_IS_DEVICE_MANAGER (self), NULL);

  return self->domains_path;
}

typedef struct {
  char       *dir;
  char       *name;
  GBytes     *bytes;
  MoatIocSet *all;        /* a copy of what is loaded, plus this bundle */
  MoatIocSet *added;
} ImportData;

static void
import_data_free (ImportData *data)
{
  g_free (data->dir);
  g_free (data->name);
  g_clear_pointer (&data->bytes, g_bytes_unref);
  g_clear_object (&data->all);
  g_clear_object (&data->added);
  g_free (data);
}

static void
import_in_thread (GTask        *task,
                  gpointer      source,
                  gpointer      task_data,
                  GCancellable *cancellable)
{
  ImportData *data = task_data;
  g_autofree char *path = NULL;
  GError *error = NULL;

  data->added = moat_ioc_set_new ();
  /* All or nothing: a bundle that does not parse adds nothing. */
  if (!moat_ioc_set_load_bytes (data->added, data->bytes, data->name, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  if (g_mkdir_with_parents (data->dir, 0700) != 0)
    {
      int saved = errno;

      g_task_return_new_error (task, MOAT_ERROR, saved == ENOSPC ? MOAT_ERROR_DISK_FULL
                                                                  : MOAT_ERROR_STORE,
                               _("Moat could not keep the indicators: %s"), g_strerror (saved));
      return;
    }
  path = g_strconcat (data->dir, G_DIR_SEPARATOR_S, data->name, BUNDLE_SUFFIX, NULL);
  if (!g_file_set_contents_full (path, g_bytes_get_data (data->bytes, NULL),
                                 g_bytes_get_size (data->bytes),
                                 G_FILE_SET_CONTENTS_CONSISTENT, 0600, &error))
    {
      g_task_return_new_error (task, MOAT_ERROR, MOAT_ERROR_STORE,
                               _("Moat could not keep the indicators: %s"), error->message);
      g_error_free (error);
      return;
    }
  moat_ioc_set_merge (data->all, data->added);
  if (!write_domains (data->dir, data->all, &error))
    {
      g_task_return_new_error (task, MOAT_ERROR, MOAT_ERROR_STORE,
                               _("Moat could not keep the indicators: %s"), error->message);
      g_error_free (error);
      return;
    }
  g_task_return_boolean (task, TRUE);
}

static void
imported_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  MoatDeviceManager *self = MOAT_DEVICE_MANAGER (object);
  g_autoptr(GTask) task = user_data;
  ImportData *data = g_task_get_task_data (G_TASK (result));
  GError *error = NULL;
  GHashTableIter iter;
  gpointer value;
  GVariantBuilder counts;

  self->in_flight--;
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      g_task_return_error (task, error);
      return;
    }
  moat_ioc_set_remove_source (self->iocs, data->name);
  moat_ioc_set_merge (self->iocs, data->added);
  g_hash_table_replace (self->bundle_times, g_strdup (data->name),
                        g_memdup2 (&(gint64) { g_get_real_time () }, sizeof (gint64)));
  g_variant_builder_init (&counts, G_VARIANT_TYPE ("a{su}"));
  for (MoatIocKind kind = 0; kind < MOAT_IOC_KIND_LAST; kind++)
    {
      guint n = moat_ioc_set_get_count (data->added, kind);

      if (n > 0)
        g_variant_builder_add (&counts, "{su}", moat_ioc_kind_to_string (kind), n);
    }
  g_task_return_pointer (task, g_variant_ref_sink (g_variant_builder_end (&counts)),
                         (GDestroyNotify) g_variant_unref);
  g_signal_emit (self, signals[SIGNAL_INDICATORS_CHANGED], 0,
                 moat_device_manager_get_domains_file (self));
  /* Every ready phone is checked against the new indicators. */
  g_hash_table_iter_init (&iter, self->devices);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Device *device = value;

      if (g_strcmp0 (device->adb_state, "device") == 0)
        check_device (self, device);
    }
}

/* A bundle's name as a file name: letters, digits, '-', '_' and '.'. */
static char *
bundle_name (const char *name)
{
  g_autoptr(GString) out = g_string_new (NULL);

  for (const char *p = name != NULL ? name : ""; *p != '\0' && out->len < 64; p++)
    g_string_append_c (out, g_ascii_isalnum (*p) || *p == '-' || *p == '_' ||
                            (*p == '.' && out->len > 0) ? *p : '_');
  while (out->len > 0 && (g_str_has_suffix (out->str, BUNDLE_SUFFIX) ||
                          g_str_has_suffix (out->str, ".json")))
    g_string_truncate (out, out->len - (g_str_has_suffix (out->str, ".json") ? 5 : 6));
  if (out->len == 0)
    {
      g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
      g_autofree char *stamp = g_date_time_format (now, "indicators-%Y%m%d-%H%M%S");

      return g_strdup (stamp);
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/**
 * moat_device_manager_import_async:
 * @bytes: a STIX 2 bundle
 * @name: (nullable): what to call it
 *
 * Parses @bytes (off the main loop), keeps a copy, matches phones against
 * it and updates the domains file the proxy blocks as c2. A bundle of the
 * same name is replaced.
 */
void
moat_device_manager_import_async (MoatDeviceManager   *self,
                                  GBytes              *bytes,
                                  const char          *name,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GTask) work = NULL;
  ImportData *data;

  g_return_if_fail (MOAT_IS_DEVICE_MANAGER (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, moat_device_manager_import_async);
  data = g_new0 (ImportData, 1);
  data->dir = g_strdup (self->indicators_dir);
  data->name = bundle_name (name);
  data->bytes = g_bytes_ref (bytes);
  data->all = moat_ioc_set_new ();
  moat_ioc_set_merge (data->all, self->iocs);
  moat_ioc_set_remove_source (data->all, data->name);
  work = g_task_new (self, cancellable, imported_cb, g_steal_pointer (&task));
  g_task_set_task_data (work, data, (GDestroyNotify) import_data_free);
  self->in_flight++;
  g_task_run_in_thread (work, import_in_thread);
}

/* Returns: (transfer full): a{su} of counts per kind */
GVariant *
moat_device_manager_import_finish (MoatDeviceManager  *self,
                                   GAsyncResult       *result,
                                   GError            **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* When the bundle @name was imported (its copy's time), or 0. */
gint64
moat_device_manager_get_indicators_time (MoatDeviceManager *self,
                                         const char        *name)
{
  g_return_val_if_fail (MOAT_IS_DEVICE_MANAGER (self), 0);

  {
    const gint64 *time = g_hash_table_lookup (self->bundle_times, name);

    return time != NULL ? *time : 0;
  }
}

/* Returns: (transfer none) (element-type MoatIocSource): the bundles, valid
 * until the next import */
GPtrArray *
moat_device_manager_get_indicators (MoatDeviceManager *self)
{
  g_return_val_if_fail (MOAT_IS_DEVICE_MANAGER (self), NULL);
  return moat_ioc_set_get_sources (self->iocs);
}

/* Reads what phones must be put back; follows the adb server at once only
 * when there are any (otherwise on the first GetDevices). */
void
moat_device_manager_start (MoatDeviceManager *self)
{
  g_autoptr(GFile) file = NULL;

  g_return_if_fail (MOAT_IS_DEVICE_MANAGER (self));

  file = g_file_new_for_path (self->state_path);
  self->in_flight++;
  g_file_load_contents_async (file, self->cancellable, loaded_cb, g_object_ref (self));
  load_indicators (self);
}

void
moat_device_manager_set_proxy_address (MoatDeviceManager *self,
                                       const char        *address)
{
  g_return_if_fail (MOAT_IS_DEVICE_MANAGER (self));

  g_free (self->proxy_address);
  self->proxy_address = g_strdup (address);
}

gboolean
moat_device_manager_is_idle (MoatDeviceManager *self)
{
  g_return_val_if_fail (MOAT_IS_DEVICE_MANAGER (self), TRUE);
  return self->in_flight == 0;
}

static const char *
state_message (Device *device, const char **state)
{
  const char *adb = device->adb_state;

  if (adb == NULL)
    {
      *state = "disconnected";
      return device->routing || device->posture == NULL ? "" : _("Not connected.");
    }
  if (g_str_equal (adb, "unauthorized"))
    {
      *state = "unauthorized";
      return _("Unlock the phone and tap “Allow” on “Allow USB debugging?”. "
               "If nothing asks, unplug the phone and plug it in again.");
    }
  if (g_str_has_prefix (adb, "no permissions") || g_str_equal (adb, "no"))
    {
      *state = "no-permissions";
      return _("This computer may not open the phone’s USB device. Install the "
               "android-sdk-platform-tools-common package, then unplug the phone and "
               "plug it in again.");
    }
  if (g_str_equal (adb, "device"))
    {
      if (device->checking)
        {
          *state = "checking";
          return _("Checking the phone…");
        }
      if (device->error != NULL && device->posture == NULL)
        {
          *state = "error";
          return device->error;
        }
      if (device->posture != NULL)
        {
          *state = "ready";
          return device->error != NULL ? device->error : "";
        }
      *state = "checking";
      return _("Checking the phone…");
    }
  if (g_str_equal (adb, "authorizing") || g_str_equal (adb, "connecting"))
    {
      *state = "checking";
      return _("Connecting to the phone…");
    }
  *state = "offline";
  return _("The phone does not answer. Unplug it and plug it in again; if it stays "
           "offline, turn USB debugging off and on again in Developer options.");
}

/**
 * moat_device_manager_wait_listed_async:
 *
 * Starts following the adb server; completes once it has listed its
 * devices (starting the server can take a moment), or after
 * MOAT_DEVICE_MANAGER_LIST_WAIT_MS without an answer.
 */
void
moat_device_manager_wait_listed_async (MoatDeviceManager   *self,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data)
{
  GTask *task;

  g_return_if_fail (MOAT_IS_DEVICE_MANAGER (self));

  task = g_task_new (self, NULL, callback, user_data);
  start_tracking (self);
  if (self->listed || self->shut_down)
    {
      g_task_return_boolean (task, TRUE);
      g_object_unref (task);
      return;
    }
  g_ptr_array_add (self->list_waiters, task);
  if (self->list_timeout_id == 0)
    self->list_timeout_id = g_timeout_add (MOAT_DEVICE_MANAGER_LIST_WAIT_MS, list_timeout_cb,
                                           self);
}

gboolean
moat_device_manager_wait_listed_finish (MoatDeviceManager  *self,
                                        GAsyncResult       *result,
                                        GError            **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * moat_device_manager_get_devices:
 *
 * Starts following the adb server the first time.
 *
 * Returns: (transfer container) (element-type MoatDeviceInfo): the phones,
 *   by serial
 */
GPtrArray *
moat_device_manager_get_devices (MoatDeviceManager *self)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) moat_device_info_free);
  g_autoptr(GList) keys = NULL;

  g_return_val_if_fail (MOAT_IS_DEVICE_MANAGER (self), out);

  start_tracking (self);
  keys = g_list_sort (g_hash_table_get_keys (self->devices), (GCompareFunc) g_strcmp0);
  for (GList *l = keys; l != NULL; l = l->next)
    {
      Device *device = g_hash_table_lookup (self->devices, l->data);
      MoatDeviceInfo *info = g_new0 (MoatDeviceInfo, 1);
      const char *state = NULL;
      const char *message = state_message (device, &state);
      gboolean any = FALSE;
      MoatSeverity worst = posture_worst (device->posture, &any);

      info->serial = g_strdup (device->serial);
      info->platform = g_strdup (device->ios ? "ios" : "android");
      info->model = g_strdup (device->posture != NULL ? device->posture->model : "");
      info->os = g_strdup (device->posture != NULL ? device->posture->os : "");
      info->connection = g_strdup (device->wifi ? "wifi" : "usb");
      info->state = g_strdup (state);
      info->message = g_strdup (message);
      info->routing = device->routing;
      info->checked = device->checked;
      info->risk = g_strdup (device->posture == NULL ? "unknown"
                             : !any ? "none"
                             : moat_risk_level_to_string (moat_risk_level_from_severity (worst)));
      g_ptr_array_add (out, info);
    }
  return out;
}

static gboolean
is_package_name (const char *name)
{
  gsize n = strlen (name);

  if (n == 0 || n > 255 || !g_ascii_isalpha (name[0]))
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if (!g_ascii_isalnum (name[i]) && name[i] != '.' && name[i] != '_')
      return FALSE;
  return TRUE;
}

static const MoatAndroidPackage *
find_package (Device *device, const char *name)
{
  for (guint i = 0; device->posture != NULL && device->posture->packages != NULL &&
       i < device->posture->packages->len; i++)
    {
      const MoatAndroidPackage *p = g_ptr_array_index (device->posture->packages, i);

      if (g_str_equal (p->name, name))
        return p;
    }
  return NULL;
}

static void
collect_packages (Device *device, JsonNode *node, GStrvBuilder *out, GHashTable *seen)
{
  if (JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *array = json_node_get_array (node);

      for (guint i = 0; i < json_array_get_length (array); i++)
        collect_packages (device, json_array_get_element (array, i), out, seen);
    }
  else if (JSON_NODE_HOLDS_OBJECT (node))
    {
      JsonObject *object = json_node_get_object (node);
      g_autoptr(GList) members = json_object_get_members (object);

      for (GList *l = members; l != NULL; l = l->next)
        {
          g_autoptr(JsonNode) name = json_node_init_string (json_node_alloc (), l->data);

          collect_packages (device, name, out, seen);
          collect_packages (device, json_object_get_member (object, l->data), out, seen);
        }
    }
  else if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
    {
      const char *text = json_node_get_string (node);
      const char *slash = strchr (text, '/');
      g_autofree char *name = slash != NULL ? g_strndup (text, slash - text) : g_strdup (text);
      const MoatAndroidPackage *p = find_package (device, name);

      if (p != NULL && !p->system && !g_hash_table_contains (seen, p->name))
        {
          g_hash_table_add (seen, p->name);
          g_strv_builder_add (out, p->name);
        }
    }
}

/* The apps a finding is about: every installed app outside the system its
 * evidence names. */
static GStrv
finding_packages (Device *device, const MoatPostureFinding *f)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(JsonParser) parser = json_parser_new ();

  if (f->result == MOAT_POSTURE_THREAT && f->threat != NULL &&
      g_str_has_prefix (f->threat, "app.") && f->evidence != NULL &&
      json_parser_load_from_data (parser, f->evidence, -1, NULL))
    collect_packages (device, json_parser_get_root (parser), builder, seen);
  return g_strv_builder_end (builder);
}

static Device *
lookup (MoatDeviceManager *self, const char *serial, GError **error)
{
  Device *device = serial != NULL ? g_hash_table_lookup (self->devices, serial) : NULL;

  if (device == NULL)
    g_set_error (error, MOAT_ERROR, MOAT_ERROR_NOT_FOUND, _("Moat does not know the phone “%s”"),
                 serial != NULL ? serial : "");
  return device;
}

/**
 * moat_device_manager_get_posture:
 *
 * Returns: (transfer container) (element-type MoatDeviceFinding): the last
 *   check's findings (none before the first), or %NULL for an unknown phone
 */
GPtrArray *
moat_device_manager_get_posture (MoatDeviceManager  *self,
                                 const char         *serial,
                                 GError            **error)
{
  Device *device;
  GPtrArray *out;

  g_return_val_if_fail (MOAT_IS_DEVICE_MANAGER (self), NULL);

  device = lookup (self, serial, error);
  if (device == NULL)
    return NULL;
  out = g_ptr_array_new_with_free_func ((GDestroyNotify) moat_device_finding_free);
  for (guint i = 0; device->posture != NULL && i < device->posture->findings->len; i++)
    {
      const MoatPostureFinding *f = g_ptr_array_index (device->posture->findings, i);
      MoatDeviceFinding *d = g_new0 (MoatDeviceFinding, 1);
      MoatPostureAdvice advice;

      moat_posture_advice_lookup (device->ios ? "ios" : "android",
                                  f->result == MOAT_POSTURE_THREAT ? f->threat : NULL, &advice);
      d->check = g_strdup (f->check);
      d->result = g_strdup (moat_posture_result_to_string (f->result));
      d->threat = g_strdup (f->result == MOAT_POSTURE_THREAT && f->threat != NULL
                            ? f->threat : "");
      d->severity = g_strdup (f->result == MOAT_POSTURE_THREAT
                              ? moat_severity_to_string (f->severity) : "");
      d->summary = g_strdup (f->summary);
      d->why = g_strdup (advice.why);
      d->fix = g_strdup (advice.fix);
      d->screen = g_strdup (advice.screen);
      d->packages = finding_packages (device, f);
      d->evidence = g_strdup (f->evidence != NULL ? f->evidence : "{}");
      d->command = g_strdup (f->command != NULL ? f->command : "");
      g_ptr_array_add (out, d);
    }
  return out;
}

/* ---- check ---- */

void
moat_device_manager_check_async (MoatDeviceManager   *self,
                                 const char          *serial,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  GError *error = NULL;
  Device *device;

  g_return_if_fail (MOAT_IS_DEVICE_MANAGER (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, moat_device_manager_check_async);
  device = lookup (self, serial, &error);
  if (device == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  if (g_strcmp0 (device->adb_state, "device") != 0)
    {
      const char *state;

      g_task_return_new_error (task, MOAT_ERROR, MOAT_ERROR_FAILED, "%s",
                               state_message (device, &state)[0] != '\0'
                               ? state_message (device, &state)
                               : _("The phone is not connected."));
      return;
    }
  g_ptr_array_add (device->waiters, g_steal_pointer (&task));
  check_device (self, device);
}

gboolean
moat_device_manager_check_finish (MoatDeviceManager  *self,
                                  GAsyncResult       *result,
                                  GError            **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- connect ---- */

static void
connected_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) answer = moat_adb_client_query_finish (MOAT_ADB_CLIENT (object), result,
                                                           &error);
  g_autofree char *text = NULL;

  if (answer == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  text = bytes_text (answer, 512);
  if (!g_utf8_validate (text, -1, NULL))
    {
      g_task_return_new_error (task, MOAT_ERROR, MOAT_ERROR_FAILED,
                               _("adb’s answer makes no sense"));
      return;
    }
  /* "failed to authenticate": reached, and waiting for "Allow" on the
   * phone, which GetDevices then says. */
  if (g_str_has_prefix (text, "connected to ") || g_str_has_prefix (text, "already connected to ") ||
      g_str_has_prefix (text, "failed to authenticate to "))
    {
      g_task_return_pointer (task, g_strdup (g_task_get_task_data (task)), g_free);
      return;
    }
  g_task_return_new_error (task, MOAT_ERROR, MOAT_ERROR_FAILED, "%s", text);
}

void
moat_device_manager_connect_async (MoatDeviceManager   *self,
                                   const char          *address,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autofree char *serial = NULL;
  g_autofree char *service = NULL;
  const char *colon;
  gsize n;

  g_return_if_fail (MOAT_IS_DEVICE_MANAGER (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, moat_device_manager_connect_async);
  n = address != NULL ? strlen (address) : 0;
  for (gsize i = 0; i < n; i++)
    if (!g_ascii_isalnum (address[i]) && strchr (".:-[]", address[i]) == NULL)
      n = 0;
  if (n == 0 || n > 260)
    {
      g_task_return_new_error (task, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                               _("“%s” is not a phone’s address"), address != NULL ? address : "");
      return;
    }
  /* host, host:port, [v6]:port; adb's own default port otherwise. */
  colon = strrchr (address, ':');
  if (colon == NULL || (address[0] == '[' && strrchr (address, ']') > colon))
    serial = g_strdup_printf ("%s:5555", address);
  else
    serial = g_strdup (address);
  start_tracking (self);
  service = g_strconcat ("host:connect:", serial, NULL);
  g_task_set_task_data (task, g_steal_pointer (&serial), g_free);
  moat_adb_client_query_async (self->adb, service, cancellable, connected_cb,
                               g_steal_pointer (&task));
}

char *
moat_device_manager_connect_finish (MoatDeviceManager  *self,
                                    GAsyncResult       *result,
                                    GError            **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- routing ---- */

typedef struct {
  char     *serial;
  gboolean  enable;
  guint16   port;
  char     *old;          /* the phone's proxy setting before */
  gboolean  forwarded;
  GError   *error;        /* the failure being unwound */
} RouteOp;

static void
route_op_free (RouteOp *op)
{
  g_free (op->serial);
  g_free (op->old);
  g_clear_error (&op->error);
  g_free (op);
}

static void
route_done (GTask *task, GError *error)
{
  MoatDeviceManager *self = g_task_get_source_object (task);
  RouteOp *op = g_task_get_task_data (task);
  Device *device = g_hash_table_lookup (self->devices, op->serial);

  self->in_flight--;
  if (device != NULL)
    device->busy = FALSE;
  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
  changed (self);
}

/* A device service's answer: "OKAY", or "FAIL" with adb's reason. */
static gboolean
service_ok (GBytes *answer, GError **error)
{
  gsize size;
  const char *data = g_bytes_get_data (answer, &size);
  guint length;

  if (size >= 4 && memcmp (data, "OKAY", 4) == 0)
    return TRUE;
  if (size >= 8 && memcmp (data, "FAIL", 4) == 0 && moat_adb_parse_length (data + 4, &length) &&
      length <= size - 8)
    {
      g_autofree char *reason = g_strndup (data + 8, length);

      if (g_utf8_validate (reason, -1, NULL))
        {
          g_set_error (error, MOAT_ERROR, MOAT_ERROR_FAILED, "%s", reason);
          return FALSE;
        }
    }
  g_set_error (error, MOAT_ERROR, MOAT_ERROR_FAILED, _("The phone’s answer makes no sense"));
  return FALSE;
}

static gboolean
shell_ok (MoatAdbShellResult *r, GError **error)
{
  g_autofree char *err = NULL;

  if (r->exit_code == 0)
    return TRUE;
  err = bytes_text (r->err, 256);
  if (!g_utf8_validate (err, -1, NULL))
    g_clear_pointer (&err, g_free);
  g_set_error (error, MOAT_ERROR, MOAT_ERROR_FAILED, _("The phone refused (exit code %d)%s%s"),
               r->exit_code, err != NULL && err[0] != '\0' ? ": " : "",
               err != NULL ? err : "");
  return FALSE;
}

static JsonBuilder *
routing_detail (RouteOp *op, const char *reason)
{
  JsonBuilder *b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "http_proxy_before");
  if (op->old != NULL)
    json_builder_add_string_value (b, op->old);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "port");
  json_builder_add_int_value (b, op->port);
  if (reason != NULL)
    {
      json_builder_set_member_name (b, "reason");
      json_builder_add_string_value (b, reason);
    }
  json_builder_end_object (b);
  return b;
}

static void
unwound_saved_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  RouteOp *op = g_task_get_task_data (task);

  save_finish (MOAT_DEVICE_MANAGER (object), result, NULL);
  route_done (g_steal_pointer (&task), g_steal_pointer (&op->error));
}

static void
unwound_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  MoatDeviceManager *self = g_task_get_source_object (task);
  RouteOp *op = g_task_get_task_data (task);
  g_autoptr(GBytes) answer = moat_adb_client_device_service_finish (MOAT_ADB_CLIENT (object),
                                                                    result, NULL);

  (void) answer;
  g_hash_table_remove (self->routes, op->serial);
  save_async (self, unwound_saved_cb, g_steal_pointer (&task));
}

/* Routing could not be set up: undo what was done, then fail with @error. */
static void
route_unwind (GTask *task, GError *error)
{
  MoatDeviceManager *self = g_task_get_source_object (task);
  RouteOp *op = g_task_get_task_data (task);
  g_autoptr(JsonBuilder) b = routing_detail (op, error->message);

  record (self, "moat.device_routing", MOAT_SEVERITY_INFO, op->serial, "action-failed", b);
  op->error = error;
  if (op->forwarded)
    {
      g_autofree char *service = g_strdup_printf ("reverse:killforward:tcp:%u", op->port);

      moat_adb_client_device_service_async (self->adb, op->serial, service, ACTION_TIMEOUT_MS,
                                            NULL, unwound_cb, task);
      return;
    }
  g_hash_table_remove (self->routes, op->serial);
  save_async (self, unwound_saved_cb, task);
}

static void
proxy_set_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  MoatDeviceManager *self = g_task_get_source_object (task);
  RouteOp *op = g_task_get_task_data (task);
  GError *error = NULL;
  g_autoptr(MoatAdbShellResult) r = moat_adb_client_shell_finish (MOAT_ADB_CLIENT (object),
                                                                  result, &error);
  Device *device;

  if (r == NULL || !shell_ok (r, &error))
    {
      route_unwind (g_steal_pointer (&task), error);
      return;
    }
  device = g_hash_table_lookup (self->devices, op->serial);
  if (device != NULL)
    device->routing = TRUE;
  {
    g_autoptr(JsonBuilder) b = routing_detail (op, NULL);

    record (self, "moat.device_routing", MOAT_SEVERITY_INFO, op->serial, "action-taken", b);
  }
  route_done (g_steal_pointer (&task), NULL);
  /* The proxy setting it sees now is Moat's. */
  if (device != NULL)
    check_device (self, device);
}

static void
forwarded_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  MoatDeviceManager *self = g_task_get_source_object (task);
  RouteOp *op = g_task_get_task_data (task);
  GError *error = NULL;
  g_autoptr(GBytes) answer = moat_adb_client_device_service_finish (MOAT_ADB_CLIENT (object),
                                                                    result, &error);
  g_autofree char *command = NULL;

  if (answer == NULL || !service_ok (answer, &error))
    {
      route_unwind (g_steal_pointer (&task), error);
      return;
    }
  op->forwarded = TRUE;
  command = g_strdup_printf ("settings put global http_proxy 127.0.0.1:%u", op->port);
  moat_adb_client_shell_async (self->adb, op->serial, command, ACTION_TIMEOUT_MS, NULL,
                               proxy_set_cb, g_steal_pointer (&task));
}

static void
route_saved_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  MoatDeviceManager *self = MOAT_DEVICE_MANAGER (object);
  RouteOp *op = g_task_get_task_data (task);
  GError *error = NULL;
  g_autofree char *service = NULL;

  /* Nothing on the phone changes unless Moat can put it back. */
  if (!save_finish (self, result, &error))
    {
      g_hash_table_remove (self->routes, op->serial);
      route_done (g_steal_pointer (&task), error);
      return;
    }
  service = g_strdup_printf ("reverse:forward:tcp:%u;tcp:%u", op->port,
                             proxy_port (self));
  moat_adb_client_device_service_async (self->adb, op->serial, service, ACTION_TIMEOUT_MS, NULL,
                                        forwarded_cb, g_steal_pointer (&task));
}

static void
old_proxy_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  MoatDeviceManager *self = g_task_get_source_object (task);
  RouteOp *op = g_task_get_task_data (task);
  GError *error = NULL;
  g_autoptr(MoatAdbShellResult) r = moat_adb_client_shell_finish (MOAT_ADB_CLIENT (object),
                                                                  result, &error);
  g_autofree char *old = NULL;
  Routing *routing;

  if (r == NULL || !shell_ok (r, &error))
    {
      route_done (g_steal_pointer (&task), error);
      return;
    }
  old = bytes_text (r->out, 1024);
  if (!g_utf8_validate (old, -1, NULL) || strchr (old, '\n') != NULL)
    {
      route_done (g_steal_pointer (&task),
                  g_error_new (MOAT_ERROR, MOAT_ERROR_FAILED,
                               _("The phone’s proxy setting makes no sense, so Moat could not "
                                 "put it back: it changed nothing")));
      return;
    }
  /* "null": not set. */
  op->old = g_str_equal (old, "null") ? NULL : g_steal_pointer (&old);
  routing = g_new0 (Routing, 1);
  routing->http_proxy = g_strdup (op->old);
  routing->port = op->port;
  g_hash_table_replace (self->routes, g_strdup (op->serial), routing);
  save_async (self, route_saved_cb, g_steal_pointer (&task));
}

/* ---- undoing ---- */

static void
restore_saved_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  MoatDeviceManager *self = MOAT_DEVICE_MANAGER (object);
  GError *error = NULL;

  if (!save_finish (self, result, &error))
    {
      route_done (g_steal_pointer (&task), error);
      return;
    }
  route_done (g_steal_pointer (&task), NULL);
}

static void
killed_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  MoatDeviceManager *self = g_task_get_source_object (task);
  RouteOp *op = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) answer = moat_adb_client_device_service_finish (MOAT_ADB_CLIENT (object),
                                                                    result, &error);
  Device *device = g_hash_table_lookup (self->devices, op->serial);

  /* A forward from before a reconnect is gone with that connection. */
  if (answer == NULL || !service_ok (answer, &error))
    g_debug ("Removing the forward on %s: %s", op->serial, error->message);
  if (device != NULL)
    device->routing = FALSE;
  {
    g_autoptr(JsonBuilder) b = routing_detail (op, NULL);

    record (self, "moat.device_routing", MOAT_SEVERITY_INFO, op->serial, "action-reverted", b);
  }
  g_hash_table_remove (self->routes, op->serial);
  save_async (self, restore_saved_cb, g_steal_pointer (&task));
}

static void
put_back_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  MoatDeviceManager *self = g_task_get_source_object (task);
  RouteOp *op = g_task_get_task_data (task);
  GError *error = NULL;
  g_autoptr(MoatAdbShellResult) r = moat_adb_client_shell_finish (MOAT_ADB_CLIENT (object),
                                                                  result, &error);
  g_autofree char *service = NULL;

  if (r == NULL || !shell_ok (r, &error))
    {
      /* Still recorded: tried again when the phone is next seen. */
      route_done (g_steal_pointer (&task), error);
      return;
    }
  service = g_strdup_printf ("reverse:killforward:tcp:%u", op->port);
  moat_adb_client_device_service_async (self->adb, op->serial, service, ACTION_TIMEOUT_MS, NULL,
                                        killed_cb, g_steal_pointer (&task));
}

static void
restore_async (MoatDeviceManager   *self,
               const char          *serial,
               GAsyncReadyCallback  callback,
               gpointer             user_data)
{
  GTask *task = g_task_new (self, NULL, callback, user_data);
  Routing *routing = g_hash_table_lookup (self->routes, serial);
  Device *device = g_hash_table_lookup (self->devices, serial);
  RouteOp *op = g_new0 (RouteOp, 1);
  g_autofree char *command = NULL;

  op->serial = g_strdup (serial);
  g_task_set_task_data (task, op, (GDestroyNotify) route_op_free);
  self->in_flight++;
  if (device != NULL)
    device->busy = TRUE;
  if (routing == NULL)
    {
      if (device != NULL)
        device->routing = FALSE;
      route_done (task, NULL);
      return;
    }
  op->port = routing->port;
  op->old = g_strdup (routing->http_proxy);
  /* Exactly what was there: the same value, or no value at all. */
  if (op->old == NULL)
    command = g_strdup ("settings delete global http_proxy");
  else
    {
      g_autofree char *quoted = g_shell_quote (op->old);

      command = g_strdup_printf ("settings put global http_proxy %s", quoted);
    }
  moat_adb_client_shell_async (self->adb, serial, command, ACTION_TIMEOUT_MS, NULL, put_back_cb,
                               task);
}

static gboolean
restore_finish (MoatDeviceManager  *self,
                GAsyncResult       *result,
                GError            **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
restored_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  MoatDeviceManager *self = MOAT_DEVICE_MANAGER (object);
  GError *error = NULL;
  Device *device;

  if (!restore_finish (self, result, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  g_task_return_boolean (task, TRUE);
  device = g_hash_table_lookup (self->devices, g_task_get_task_data (task));
  if (device != NULL && g_strcmp0 (device->adb_state, "device") == 0)
    check_device (self, device);
}

void
moat_device_manager_set_routing_async (MoatDeviceManager   *self,
                                       const char          *serial,
                                       gboolean             enabled,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  GError *error = NULL;
  Device *device;
  RouteOp *op;

  g_return_if_fail (MOAT_IS_DEVICE_MANAGER (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, moat_device_manager_set_routing_async);
  device = lookup (self, serial, &error);
  if (device == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  if (device->ios)
    {
      g_task_return_new_error (task, MOAT_ERROR, MOAT_ERROR_NOT_SUPPORTED,
                               _("Moat cannot route an iPhone’s traffic: iOS takes a proxy "
                                 "only from the user or a configuration profile"));
      return;
    }
  if (device->busy)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_BUSY,
                               _("Moat is still changing this phone"));
      return;
    }
  if (!enabled)
    {
      g_task_set_task_data (task, g_strdup (serial), g_free);
      if (g_strcmp0 (device->adb_state, "device") != 0 &&
          g_hash_table_contains (self->routes, serial))
        {
          g_task_return_new_error (task, MOAT_ERROR, MOAT_ERROR_FAILED,
                                   _("The phone is not connected: Moat puts its proxy setting "
                                     "back as soon as it is"));
          return;
        }
      restore_async (self, serial, restored_cb, g_steal_pointer (&task));
      return;
    }
  if (device->routing)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }
  if (g_strcmp0 (device->adb_state, "device") != 0 || device->posture == NULL)
    {
      g_task_return_new_error (task, MOAT_ERROR, MOAT_ERROR_FAILED,
                               _("The phone must be connected and checked first"));
      return;
    }
  if (g_hash_table_contains (self->routes, serial))
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_BUSY,
                               _("Moat is still putting this phone’s proxy setting back"));
      return;
    }
  if (proxy_port (self) == 0)
    {
      g_task_return_new_error (task, MOAT_ERROR, MOAT_ERROR_FAILED,
                               _("Moat’s filter is not running"));
      return;
    }
  op = g_new0 (RouteOp, 1);
  op->serial = g_strdup (serial);
  op->enable = TRUE;
  /* The same port on the phone as here, so a person reading the phone's
   * setting sees the proxy they know. */
  op->port = proxy_port (self);
  g_task_set_task_data (task, op, (GDestroyNotify) route_op_free);
  device->busy = TRUE;
  self->in_flight++;
  moat_adb_client_shell_async (self->adb, serial, "settings get global http_proxy",
                               ACTION_TIMEOUT_MS, NULL, old_proxy_cb, g_steal_pointer (&task));
}

gboolean
moat_device_manager_set_routing_finish (MoatDeviceManager  *self,
                                        GAsyncResult       *result,
                                        GError            **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- actions ---- */

typedef struct {
  char *serial;
  char *action;
  char *target;
  char *command;
} ActionOp;

static void
action_op_free (ActionOp *op)
{
  g_free (op->serial);
  g_free (op->action);
  g_free (op->target);
  g_free (op->command);
  g_free (op);
}

static void
action_ran_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  MoatDeviceManager *self = g_task_get_source_object (task);
  ActionOp *op = g_task_get_task_data (task);
  GError *error = NULL;
  g_autoptr(MoatAdbShellResult) r = moat_adb_client_shell_finish (MOAT_ADB_CLIENT (object),
                                                                  result, &error);
  Device *device = g_hash_table_lookup (self->devices, op->serial);
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autofree char *out = NULL;
  char *message;

  self->in_flight--;
  if (device != NULL)
    device->busy = FALSE;
  if (r != NULL)
    {
      out = bytes_text (r->out, 512);
      if (!g_utf8_validate (out, -1, NULL))
        g_clear_pointer (&out, g_free);
      /* `am start` says "Error: …" and still exits 0. */
      if (shell_ok (r, &error) && out != NULL && g_str_has_prefix (out, "Error"))
        g_set_error (&error, MOAT_ERROR, MOAT_ERROR_FAILED, "%s", out);
    }
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "target");
  json_builder_add_string_value (b, op->target);
  json_builder_set_member_name (b, "command");
  json_builder_add_string_value (b, op->command);
  if (out != NULL)
    {
      json_builder_set_member_name (b, "output");
      json_builder_add_string_value (b, out);
    }
  if (error != NULL)
    {
      json_builder_set_member_name (b, "error");
      json_builder_add_string_value (b, error->message);
    }
  json_builder_end_object (b);
  record (self, "moat.device_action", MOAT_SEVERITY_INFO, op->serial, op->action, b);
  if (error != NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  if (g_str_equal (op->action, "force-stop"))
    message = g_strdup_printf (_("Stopped %s."), op->target);
  else if (g_str_equal (op->action, "disable-app"))
    message = g_strdup_printf (_("Disabled %s: it stays on the phone but cannot run until it "
                                 "is enabled again."), op->target);
  else if (g_str_equal (op->action, "enable-app"))
    message = g_strdup_printf (_("Enabled %s again."), op->target);
  else
    message = g_strdup (_("The settings are open on the phone."));
  g_task_return_pointer (task, message, g_free);
  if (device != NULL && (g_str_equal (op->action, "disable-app") ||
                         g_str_equal (op->action, "enable-app")))
    check_device (self, device);
}

void
moat_device_manager_action_async (MoatDeviceManager   *self,
                                  const char          *serial,
                                  const char          *action,
                                  const char          *target,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  GError *error = NULL;
  Device *device;
  ActionOp *op;
  g_autofree char *command = NULL;

  g_return_if_fail (MOAT_IS_DEVICE_MANAGER (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, moat_device_manager_action_async);
  device = lookup (self, serial, &error);
  if (device == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  if (device->ios)
    {
      g_task_return_new_error (task, MOAT_ERROR, MOAT_ERROR_NOT_SUPPORTED,
                               _("Moat cannot change apps or settings on an iPhone: follow the "
                                 "steps on the iPhone itself"));
      return;
    }
  if (g_strcmp0 (device->adb_state, "device") != 0 || device->posture == NULL)
    {
      g_task_return_new_error (task, MOAT_ERROR, MOAT_ERROR_FAILED,
                               _("The phone must be connected and checked first"));
      return;
    }
  if (g_strcmp0 (action, "open-settings") == 0)
    {
      const char *intent = moat_android_settings_action (target);

      if (intent == NULL)
        {
          g_task_return_new_error (task, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                                   _("“%s” is not a settings screen Moat knows"),
                                   target != NULL ? target : "");
          return;
        }
      command = g_strdup_printf ("am start -a %s", intent);
    }
  else if (g_strcmp0 (action, "force-stop") == 0 || g_strcmp0 (action, "disable-app") == 0 ||
           g_strcmp0 (action, "enable-app") == 0)
    {
      const MoatAndroidPackage *p = target != NULL && is_package_name (target)
                                    ? find_package (device, target) : NULL;

      if (p == NULL || p->system)
        {
          g_task_return_new_error (task, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                                   _("“%s” is not an app on this phone that Moat may stop"),
                                   target != NULL ? target : "");
          return;
        }
      if (g_str_equal (action, "force-stop"))
        command = g_strdup_printf ("am force-stop %s", p->name);
      else if (g_str_equal (action, "disable-app"))
        command = g_strdup_printf ("pm disable-user --user 0 %s", p->name);
      else
        command = g_strdup_printf ("pm enable --user 0 %s", p->name);
    }
  else
    {
      g_task_return_new_error (task, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                               _("“%s” is not an action Moat can take on a phone"),
                               action != NULL ? action : "");
      return;
    }
  if (device->busy)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_BUSY,
                               _("Moat is still changing this phone"));
      return;
    }
  op = g_new0 (ActionOp, 1);
  op->serial = g_strdup (serial);
  op->action = g_strdup (action);
  op->target = g_strdup (target);
  op->command = g_strdup (command);
  g_task_set_task_data (task, op, (GDestroyNotify) action_op_free);
  device->busy = TRUE;
  self->in_flight++;
  moat_adb_client_shell_async (self->adb, serial, command, ACTION_TIMEOUT_MS, NULL,
                               action_ran_cb, g_steal_pointer (&task));
}

char *
moat_device_manager_action_finish (MoatDeviceManager  *self,
                                   GAsyncResult       *result,
                                   GError            **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- shutdown ---- */

static void
shutdown_restored_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GError) error = NULL;

  if (!restore_finish (MOAT_DEVICE_MANAGER (object), result, &error))
    g_warning ("Could not put %s's proxy setting back: %s", (const char *) user_data,
               error->message);
  g_free (user_data);
}

/*
 * Stops following the adb server. Phones routed through Moat are put back
 * first, briefly iterating the default main context (the main loop has
 * quit): with moatd gone, their traffic would go nowhere.
 */
void
moat_device_manager_shutdown (MoatDeviceManager *self)
{
  GHashTableIter iter;
  gpointer value;
  gint64 deadline;

  g_return_if_fail (MOAT_IS_DEVICE_MANAGER (self));

  if (self->shut_down)
    return;
  g_hash_table_iter_init (&iter, self->devices);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Device *device = value;

      if (device->routing && !device->busy)
        restore_async (self, device->serial, shutdown_restored_cb, g_strdup (device->serial));
    }
  deadline = g_get_monotonic_time () + SHUTDOWN_RESTORE_MS * 1000;
  while (self->in_flight > 0 && g_get_monotonic_time () < deadline)
    {
      if (!g_main_context_iteration (NULL, FALSE))
        g_usleep (1000);
    }
  self->shut_down = TRUE;
  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->ios_poll_id, g_source_remove);
  if (self->tracking)
    moat_adb_client_stop_tracking (self->adb);
}
