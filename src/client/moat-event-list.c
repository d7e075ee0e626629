/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-client"

#include "config.h"

#include "moat-event-list.h"

#include "moat-event-list-private.h"

/*
 * How the list stays stable while it pages:
 *
 * A load asks for the newest page first; the id of its newest event is the
 * anchor. The snapshot is "every matching event with id <= anchor", counted
 * once (CountEvents with before-id anchor + 1) and paged newest first with the
 * same before-id, so no page boundary moves however many events arrive later.
 * Events that arrive through ::events-added with a larger id and that match the
 * filter are kept in memory as "live" items above the snapshot: position i is
 * live[i] for i < n_live, else snapshot index i - n_live. Events that arrive
 * while the load is in flight are buffered and sorted in by id when it ends, so
 * nothing is shown twice or lost. When too many live items pile up, the anchor
 * moves to the newest of them and the list says all items changed (same count,
 * so a view keeps its scroll position).
 *
 * Pages are fetched on first access, at most once at a time, and kept in an LRU
 * of MOAT_EVENT_LIST_MAX_PAGES pages; an evicted page's items are dropped (a
 * view that still holds one keeps its event) and fetched again when asked for.
 */

#define MAX_LIVE 5000

/* ---- MoatEventItem ---- */

struct _MoatEventItem
{
  GObject    parent_instance;

  MoatEvent *event;   /* owned, NULL until loaded */
};

G_DEFINE_FINAL_TYPE (MoatEventItem, moat_event_item, G_TYPE_OBJECT)

enum {
  ITEM_PROP_0,
  ITEM_PROP_EVENT,
  ITEM_N_PROPS
};

static GParamSpec *item_properties[ITEM_N_PROPS];

static void
moat_event_item_finalize (GObject *object)
{
  MoatEventItem *self = MOAT_EVENT_ITEM (object);

  g_clear_pointer (&self->event, moat_event_unref);

  G_OBJECT_CLASS (moat_event_item_parent_class)->finalize (object);
}

static void
moat_event_item_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  MoatEventItem *self = MOAT_EVENT_ITEM (object);

  switch (prop_id)
    {
    case ITEM_PROP_EVENT:
      g_value_set_boxed (value, self->event);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
moat_event_item_class_init (MoatEventItemClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = moat_event_item_finalize;
  object_class->get_property = moat_event_item_get_property;

  item_properties[ITEM_PROP_EVENT] =
    g_param_spec_boxed ("event", NULL, "The event, NULL until its page is loaded",
                        MOAT_TYPE_EVENT,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, ITEM_N_PROPS, item_properties);
}

static void
moat_event_item_init (MoatEventItem *self)
{
}

/* Sets the event once; later calls are ignored. */
static void
item_set_event (MoatEventItem *self, MoatEvent *event)
{
  if (self->event != NULL || event == NULL)
    return;
  self->event = moat_event_ref (event);
  g_object_notify_by_pspec (G_OBJECT (self), item_properties[ITEM_PROP_EVENT]);
}

MoatEvent *
moat_event_item_get_event (MoatEventItem *self)
{
  g_return_val_if_fail (MOAT_IS_EVENT_ITEM (self), NULL);
  return self->event;
}

/* ---- MoatEventList ---- */

typedef enum {
  STATE_LOADING,
  STATE_READY,
  STATE_FAILED,
} ListState;

typedef struct {
  guint           index;
  guint           n_items;
  MoatEventItem **items;   /* owned, n_items of them */
  gboolean        loading;
  gboolean        loaded;
  GList           lru_link;
} Page;

struct _MoatEventList
{
  GObject          parent_instance;

  /* owned */
  MoatClient      *client;
  MoatEventFilter *filter;
  char            *error;
  GCancellable    *cancellable;   /* of the current load and its page fetches */
  GPtrArray       *live;          /* MoatEventItem, oldest first */
  GPtrArray       *pending;       /* MoatEvent that arrived during a load */
  GPtrArray       *first_page;    /* MoatEvent, newest first, while counting */
  GHashTable      *pages;         /* page index -> Page */
  GQueue           lru;           /* Page, most recently used first */

  gulong           events_added_id;
  ListState        state;
  gint64           anchor;        /* newest id in the snapshot, 0 if none */
  gint64           last_id;       /* newest id shown */
  guint            n_snapshot;
  guint            n_fetches;
};

static void moat_event_list_model_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (MoatEventList, moat_event_list, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL,
                                                      moat_event_list_model_init))

enum {
  PROP_0,
  PROP_N_ITEMS,
  PROP_LOADING,
  PROP_ERROR,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

typedef struct {
  MoatEventList *self;   /* borrowed: valid unless the fetch was cancelled */
  guint          page_index;
} FetchData;

static void
page_free (Page *page)
{
  for (guint i = 0; i < page->n_items; i++)
    g_object_unref (page->items[i]);
  g_free (page->items);
  g_free (page);
}

static guint
get_n_items (MoatEventList *self)
{
  return self->state == STATE_READY ? self->n_snapshot + self->live->len : 0;
}

/* The caller's filter with the snapshot's upper bound, always newest first. */
static MoatEventFilter *
dup_snapshot_filter (MoatEventList *self, gboolean bounded)
{
  MoatEventFilter *filter = self->filter != NULL ? moat_event_filter_copy (self->filter)
                                                 : moat_event_filter_new ();

  filter->ascending = FALSE;
  if (bounded && (filter->before_id == 0 || filter->before_id > self->anchor + 1))
    filter->before_id = self->anchor + 1;
  return filter;
}

static void
clear_pages (MoatEventList *self)
{
  /* The links are embedded in the pages: forget them, never g_queue_clear(). */
  g_queue_init (&self->lru);
  g_hash_table_remove_all (self->pages);
}

static Page *
add_page (MoatEventList *self, guint index)
{
  Page *page = g_new0 (Page, 1);
  guint first = index * MOAT_EVENT_LIST_PAGE_SIZE;

  page->index = index;
  page->n_items = MIN (MOAT_EVENT_LIST_PAGE_SIZE, self->n_snapshot - first);
  page->items = g_new (MoatEventItem *, page->n_items);
  for (guint i = 0; i < page->n_items; i++)
    page->items[i] = g_object_new (MOAT_TYPE_EVENT_ITEM, NULL);
  page->lru_link.data = page;
  g_queue_push_head_link (&self->lru, &page->lru_link);
  g_hash_table_insert (self->pages, GUINT_TO_POINTER (index), page);
  return page;
}

static void
touch_page (MoatEventList *self, Page *page)
{
  g_queue_unlink (&self->lru, &page->lru_link);
  g_queue_push_head_link (&self->lru, &page->lru_link);
}

static void
evict_pages (MoatEventList *self)
{
  GList *link = self->lru.tail;

  while (self->lru.length > MOAT_EVENT_LIST_MAX_PAGES && link != NULL)
    {
      Page *page = link->data;
      GList *prev = link->prev;

      /* A page in flight stays until its answer arrives. */
      if (!page->loading)
        {
          g_queue_unlink (&self->lru, link);
          g_hash_table_remove (self->pages, GUINT_TO_POINTER (page->index));
        }
      link = prev;
    }
}

static void
fill_page (Page *page, GPtrArray *events)
{
  for (guint i = 0; i < page->n_items && i < events->len; i++)
    item_set_event (page->items[i], g_ptr_array_index (events, i));
}

static void
fetch_page_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autofree FetchData *data = user_data;
  g_autoptr(GPtrArray) events = NULL;
  g_autoptr(GError) error = NULL;
  MoatEventList *self;
  Page *page;

  events = moat_client_list_events_finish (MOAT_CLIENT (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = data->self;
  page = g_hash_table_lookup (self->pages, GUINT_TO_POINTER (data->page_index));
  if (page == NULL)
    return;
  page->loading = FALSE;
  if (events == NULL)
    {
      /* Left unloaded: the next time a row asks for it, it is fetched again. */
      g_debug ("Could not load events %u–%u: %s",
               data->page_index * MOAT_EVENT_LIST_PAGE_SIZE,
               data->page_index * MOAT_EVENT_LIST_PAGE_SIZE + page->n_items, error->message);
      return;
    }
  page->loaded = TRUE;
  fill_page (page, events);
  evict_pages (self);
}

static void
fetch_page (MoatEventList *self, Page *page)
{
  g_autoptr(MoatEventFilter) filter = dup_snapshot_filter (self, TRUE);
  FetchData *data = g_new0 (FetchData, 1);

  data->self = self;
  data->page_index = page->index;
  page->loading = TRUE;
  self->n_fetches++;
  moat_client_list_events_async (self->client, filter,
                                 (guint64) page->index * MOAT_EVENT_LIST_PAGE_SIZE,
                                 page->n_items, self->cancellable, fetch_page_cb, data);
}

/* Call after self->state changed to or from STATE_LOADING. */
static void
notify_loading (MoatEventList *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOADING]);
}

static void
set_error (MoatEventList *self, const char *message)
{
  if (g_strcmp0 (self->error, message) == 0)
    return;
  g_free (self->error);
  self->error = g_strdup (message);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ERROR]);
}

static void
fail_load (MoatEventList *self, const GError *error)
{
  g_debug ("Could not load the event list: %s", error->message);
  g_clear_pointer (&self->first_page, g_ptr_array_unref);
  g_ptr_array_set_size (self->pending, 0);
  self->state = STATE_FAILED;
  set_error (self, error->message);
  notify_loading (self);
}

/* Adds events (oldest first) above the snapshot; returns how many were added. */
static guint
add_live (MoatEventList *self, GPtrArray *events)
{
  guint added = 0;

  for (guint i = 0; i < events->len; i++)
    {
      MoatEvent *event = g_ptr_array_index (events, i);
      MoatEventItem *item;

      if (event->id <= self->last_id || !moat_event_filter_matches (self->filter, event))
        continue;
      item = g_object_new (MOAT_TYPE_EVENT_ITEM, NULL);
      item->event = moat_event_ref (event);
      g_ptr_array_add (self->live, item);
      self->last_id = event->id;
      added++;
    }
  return added;
}

/* Too many live items: fold them into the snapshot. The count stays the same. */
static void
reanchor (MoatEventList *self)
{
  guint n = get_n_items (self);

  g_debug ("Moving the event list's anchor to %" G_GINT64_FORMAT, self->last_id);
  self->anchor = self->last_id;
  self->n_snapshot = n;
  g_ptr_array_set_size (self->live, 0);
  clear_pages (self);
  g_list_model_items_changed (G_LIST_MODEL (self), 0, n, n);
}

static void
finish_load (MoatEventList *self, guint64 count)
{
  guint n;

  /* GListModel positions are guint. */
  self->n_snapshot = (guint) MIN (count, (guint64) G_MAXUINT - MAX_LIVE - 1);
  self->last_id = self->anchor;
  self->state = STATE_READY;

  if (self->n_snapshot > 0 && self->first_page != NULL)
    {
      Page *page = add_page (self, 0);

      fill_page (page, self->first_page);
      page->loaded = TRUE;
    }
  g_clear_pointer (&self->first_page, g_ptr_array_unref);
  add_live (self, self->pending);
  g_ptr_array_set_size (self->pending, 0);

  n = get_n_items (self);
  if (n > 0)
    {
      g_list_model_items_changed (G_LIST_MODEL (self), 0, 0, n);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_ITEMS]);
    }
  notify_loading (self);
}

static void
count_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  MoatEventList *self;
  g_autoptr(GError) error = NULL;
  guint64 count = 0;

  if (!moat_client_count_events_finish (MOAT_CLIENT (object), result, &count, &error) &&
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = MOAT_EVENT_LIST (user_data);
  if (error != NULL)
    {
      fail_load (self, error);
      return;
    }
  finish_load (self, MAX (count, self->first_page->len));
}

static void
first_page_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  MoatEventList *self;
  g_autoptr(GPtrArray) events = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(MoatEventFilter) filter = NULL;

  events = moat_client_list_events_finish (MOAT_CLIENT (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = MOAT_EVENT_LIST (user_data);
  if (events == NULL)
    {
      fail_load (self, error);
      return;
    }
  if (events->len == 0)
    {
      self->anchor = 0;
      finish_load (self, 0);
      return;
    }

  self->anchor = ((MoatEvent *) g_ptr_array_index (events, 0))->id;
  self->first_page = g_steal_pointer (&events);
  if (self->first_page->len < MOAT_EVENT_LIST_PAGE_SIZE)
    {
      /* All of them fit in one page: that page is the count. */
      finish_load (self, self->first_page->len);
      return;
    }
  filter = dup_snapshot_filter (self, TRUE);
  moat_client_count_events_async (self->client, filter, self->cancellable, count_cb, self);
}

static void
on_client_events_added_cb (MoatClient    *client,
                           GPtrArray     *events,
                           MoatEventList *self)
{
  guint added;

  switch (self->state)
    {
    case STATE_LOADING:
      for (guint i = 0; i < events->len; i++)
        {
          MoatEvent *event = g_ptr_array_index (events, i);

          if (moat_event_filter_matches (self->filter, event))
            g_ptr_array_add (self->pending, moat_event_ref (event));
        }
      break;
    case STATE_READY:
      added = add_live (self, events);
      if (added == 0)
        break;
      g_list_model_items_changed (G_LIST_MODEL (self), 0, 0, added);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_ITEMS]);
      if (self->live->len > MAX_LIVE)
        reanchor (self);
      break;
    case STATE_FAILED:
    default:
      break;
    }
}

/* ---- GListModel ---- */

static GType
moat_event_list_get_item_type (GListModel *model)
{
  return MOAT_TYPE_EVENT_ITEM;
}

static guint
moat_event_list_get_n_items (GListModel *model)
{
  return get_n_items (MOAT_EVENT_LIST (model));
}

static gpointer
moat_event_list_get_item (GListModel *model,
                          guint       position)
{
  MoatEventList *self = MOAT_EVENT_LIST (model);
  guint n_live = self->live->len;
  guint index, page_index;
  Page *page;
  MoatEventItem *item;

  if (position >= get_n_items (self))
    return NULL;
  if (position < n_live)
    return g_object_ref (g_ptr_array_index (self->live, n_live - 1 - position));

  index = position - n_live;
  page_index = index / MOAT_EVENT_LIST_PAGE_SIZE;
  page = g_hash_table_lookup (self->pages, GUINT_TO_POINTER (page_index));
  if (page == NULL)
    page = add_page (self, page_index);
  else
    touch_page (self, page);
  item = g_object_ref (page->items[index % MOAT_EVENT_LIST_PAGE_SIZE]);
  if (!page->loaded && !page->loading)
    fetch_page (self, page);
  evict_pages (self);
  return item;
}

static void
moat_event_list_model_init (GListModelInterface *iface)
{
  iface->get_item_type = moat_event_list_get_item_type;
  iface->get_n_items = moat_event_list_get_n_items;
  iface->get_item = moat_event_list_get_item;
}

/* ---- GObject ---- */

static void
moat_event_list_dispose (GObject *object)
{
  MoatEventList *self = MOAT_EVENT_LIST (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_signal_handler (&self->events_added_id, self->client);
  g_clear_object (&self->client);
  g_clear_object (&self->cancellable);
  if (self->pages != NULL)
    clear_pages (self);
  g_clear_pointer (&self->first_page, g_ptr_array_unref);

  G_OBJECT_CLASS (moat_event_list_parent_class)->dispose (object);
}

static void
moat_event_list_finalize (GObject *object)
{
  MoatEventList *self = MOAT_EVENT_LIST (object);

  g_clear_pointer (&self->filter, moat_event_filter_free);
  g_clear_pointer (&self->error, g_free);
  g_clear_pointer (&self->live, g_ptr_array_unref);
  g_clear_pointer (&self->pending, g_ptr_array_unref);
  g_clear_pointer (&self->pages, g_hash_table_unref);

  G_OBJECT_CLASS (moat_event_list_parent_class)->finalize (object);
}

static void
moat_event_list_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  MoatEventList *self = MOAT_EVENT_LIST (object);

  switch (prop_id)
    {
    case PROP_N_ITEMS:
      g_value_set_uint (value, get_n_items (self));
      break;
    case PROP_LOADING:
      g_value_set_boolean (value, self->state == STATE_LOADING);
      break;
    case PROP_ERROR:
      g_value_set_string (value, self->error);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
moat_event_list_class_init (MoatEventListClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->dispose = moat_event_list_dispose;
  object_class->finalize = moat_event_list_finalize;
  object_class->get_property = moat_event_list_get_property;

  properties[PROP_N_ITEMS] =
    g_param_spec_uint ("n-items", NULL, "Number of items", 0, G_MAXUINT, 0, flags);
  properties[PROP_LOADING] =
    g_param_spec_boolean ("loading", NULL, "Whether the list is being loaded", FALSE, flags);
  properties[PROP_ERROR] =
    g_param_spec_string ("error", NULL, "Why the list could not be loaded, or NULL", NULL, flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
moat_event_list_init (MoatEventList *self)
{
  self->live = g_ptr_array_new_with_free_func (g_object_unref);
  self->pending = g_ptr_array_new_with_free_func ((GDestroyNotify) moat_event_unref);
  self->pages = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL,
                                       (GDestroyNotify) page_free);
  g_queue_init (&self->lru);
  self->state = STATE_FAILED;
}

/* ---- public API ---- */

/**
 * moat_event_list_new:
 * @client: the client to page through
 *
 * Returns: (transfer full): a list that starts loading, unfiltered, at once.
 */
MoatEventList *
moat_event_list_new (MoatClient *client)
{
  MoatEventList *self;

  g_return_val_if_fail (MOAT_IS_CLIENT (client), NULL);

  self = g_object_new (MOAT_TYPE_EVENT_LIST, NULL);
  self->client = g_object_ref (client);
  self->events_added_id = g_signal_connect (client, "events-added",
                                            G_CALLBACK (on_client_events_added_cb), self);
  moat_event_list_reload (self);
  return self;
}

/**
 * moat_event_list_set_filter:
 * @filter: (nullable): what to show; NULL for everything. Its order is ignored:
 *   the list is always newest first.
 *
 * Cancels whatever is loading and reloads with @filter.
 */
void
moat_event_list_set_filter (MoatEventList         *self,
                            const MoatEventFilter *filter)
{
  MoatEventFilter *copy;

  g_return_if_fail (MOAT_IS_EVENT_LIST (self));

  /* Copy first: @filter may be the one from moat_event_list_get_filter(). */
  copy = filter != NULL ? moat_event_filter_copy (filter) : NULL;
  g_clear_pointer (&self->filter, moat_event_filter_free);
  self->filter = copy;
  moat_event_list_reload (self);
}

const MoatEventFilter *
moat_event_list_get_filter (MoatEventList *self)
{
  g_return_val_if_fail (MOAT_IS_EVENT_LIST (self), NULL);
  return self->filter;
}

gboolean
moat_event_list_get_loading (MoatEventList *self)
{
  g_return_val_if_fail (MOAT_IS_EVENT_LIST (self), FALSE);
  return self->state == STATE_LOADING;
}

const char *
moat_event_list_get_error (MoatEventList *self)
{
  g_return_val_if_fail (MOAT_IS_EVENT_LIST (self), NULL);
  return self->error;
}

/**
 * moat_event_list_reload:
 *
 * Empties the list and loads a fresh snapshot. In-flight loads and page
 * fetches are cancelled.
 */
void
moat_event_list_reload (MoatEventList *self)
{
  g_autoptr(MoatEventFilter) filter = NULL;
  guint old_n;

  g_return_if_fail (MOAT_IS_EVENT_LIST (self));

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();

  old_n = get_n_items (self);
  self->state = STATE_LOADING;
  self->anchor = 0;
  self->last_id = 0;
  self->n_snapshot = 0;
  g_ptr_array_set_size (self->live, 0);
  g_ptr_array_set_size (self->pending, 0);
  g_clear_pointer (&self->first_page, g_ptr_array_unref);
  clear_pages (self);

  if (old_n > 0)
    {
      g_list_model_items_changed (G_LIST_MODEL (self), 0, old_n, 0);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_ITEMS]);
    }
  set_error (self, NULL);
  notify_loading (self);

  filter = dup_snapshot_filter (self, FALSE);
  moat_client_list_events_async (self->client, filter, 0, MOAT_EVENT_LIST_PAGE_SIZE,
                                 self->cancellable, first_page_cb, self);
}

/* ---- private, for tests ---- */

guint
moat_event_list_get_n_fetches (MoatEventList *self)
{
  g_return_val_if_fail (MOAT_IS_EVENT_LIST (self), 0);
  return self->n_fetches;
}

guint
moat_event_list_get_n_cached_pages (MoatEventList *self)
{
  g_return_val_if_fail (MOAT_IS_EVENT_LIST (self), 0);
  return self->lru.length;
}
