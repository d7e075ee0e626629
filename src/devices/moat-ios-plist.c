/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-devices"

#include "config.h"

#include "moat-ios-plist.h"

#include <string.h>

#define MAX_MESSAGE 200   /* characters of an error message */

typedef enum {
  FRAME_PLIST,
  FRAME_DICT,
  FRAME_ARRAY,
  FRAME_LEAF,
} FrameKind;

typedef struct {
  FrameKind   kind;
  char       *element;   /* owned: the leaf's element name */
  GString    *text;      /* owned: the leaf's text */
  GPtrArray  *values;    /* owned: a container's values (GVariant) */
  GPtrArray  *keys;      /* owned: a dict's keys, one per value */
  GHashTable *seen;      /* owned: a dict's keys so far */
  char       *key;       /* owned: a dict's key waiting for its value */
} Frame;

typedef struct {
  GPtrArray *stack;      /* Frame */
  GVariant  *root;       /* owned */
  guint      values;
} ParseState;

static void
frame_free (Frame *frame)
{
  g_free (frame->element);
  if (frame->text != NULL)
    g_string_free (frame->text, TRUE);
  g_clear_pointer (&frame->values, g_ptr_array_unref);
  g_clear_pointer (&frame->keys, g_ptr_array_unref);
  g_clear_pointer (&frame->seen, g_hash_table_unref);
  g_free (frame->key);
  g_free (frame);
}

static Frame *
top (ParseState *state)
{
  return state->stack->len > 0 ? g_ptr_array_index (state->stack, state->stack->len - 1) : NULL;
}

static void
set_error (GMarkupParseContext *context,
           GError             **error,
           const char          *format,
           ...) G_GNUC_PRINTF (3, 4);

static void
set_error (GMarkupParseContext *context,
           GError             **error,
           const char          *format,
           ...)
{
  g_autofree char *message = NULL;
  va_list args;

  /* GMarkup prefixes the line and column (G_MARKUP_PREFIX_ERROR_POSITION). */
  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "plist: %s", message);
}

/* Hands a finished value to the frame below (or makes it the root). */
static gboolean
add_value (GMarkupParseContext *context,
           ParseState          *state,
           GVariant            *value,
           GError             **error)
{
  g_autoptr(GVariant) owned = g_variant_ref_sink (value);
  Frame *parent = top (state);

  if (++state->values > MOAT_IOS_PLIST_MAX_VALUES)
    {
      set_error (context, error, "more than %d values", MOAT_IOS_PLIST_MAX_VALUES);
      return FALSE;
    }
  switch (parent->kind)
    {
    case FRAME_PLIST:
      if (state->root != NULL)
        {
          set_error (context, error, "more than one value in <plist>");
          return FALSE;
        }
      state->root = g_steal_pointer (&owned);
      return TRUE;
    case FRAME_DICT:
      if (parent->key == NULL)
        {
          set_error (context, error, "a dictionary value without a <key>");
          return FALSE;
        }
      g_ptr_array_add (parent->keys, g_steal_pointer (&parent->key));
      g_ptr_array_add (parent->values, g_steal_pointer (&owned));
      return TRUE;
    case FRAME_ARRAY:
      g_ptr_array_add (parent->values, g_steal_pointer (&owned));
      return TRUE;
    case FRAME_LEAF:
    default:
      set_error (context, error, "a value inside a <%s>", parent->element);
      return FALSE;
    }
}

static const char *const leaves[] = {
  "key", "string", "integer", "real", "true", "false", "date", "data", NULL
};

static void
start_element_cb (GMarkupParseContext  *context,
                  const char           *element,
                  const char          **attribute_names,
                  const char          **attribute_values,
                  gpointer              user_data,
                  GError              **error)
{
  ParseState *state = user_data;
  Frame *parent = top (state);
  Frame *frame;

  if (parent == NULL)
    {
      if (!g_str_equal (element, "plist"))
        {
          set_error (context, error, "<%s> where <plist> was expected", element);
          return;
        }
      frame = g_new0 (Frame, 1);
      frame->kind = FRAME_PLIST;
      g_ptr_array_add (state->stack, frame);
      return;
    }
  if (parent->kind == FRAME_LEAF)
    {
      set_error (context, error, "<%s> inside <%s>", element, parent->element);
      return;
    }
  /* The stack holds <plist> and the containers above this element. */
  if ((g_str_equal (element, "dict") || g_str_equal (element, "array")) &&
      state->stack->len > MOAT_IOS_PLIST_MAX_DEPTH)
    {
      set_error (context, error, "nested deeper than %d", MOAT_IOS_PLIST_MAX_DEPTH);
      return;
    }
  frame = g_new0 (Frame, 1);
  if (g_str_equal (element, "dict"))
    {
      frame->kind = FRAME_DICT;
      frame->values = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
      frame->keys = g_ptr_array_new_with_free_func (g_free);
      frame->seen = g_hash_table_new (g_str_hash, g_str_equal);
    }
  else if (g_str_equal (element, "array"))
    {
      frame->kind = FRAME_ARRAY;
      frame->values = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
    }
  else if (g_strv_contains (leaves, element))
    {
      frame->kind = FRAME_LEAF;
      frame->element = g_strdup (element);
      frame->text = g_string_new (NULL);
    }
  else
    {
      g_free (frame);
      set_error (context, error, "unknown element <%s>", element);
      return;
    }
  if (parent->kind == FRAME_DICT && (parent->key == NULL) != (g_strcmp0 (element, "key") == 0))
    {
      set_error (context, error, parent->key == NULL ? "<%s> where a <key> was expected"
                                                     : "<%s> where a value was expected",
                 element);
      frame_free (frame);
      return;
    }
  if (parent->kind != FRAME_DICT && g_str_equal (element, "key"))
    {
      set_error (context, error, "<key> outside a dictionary");
      frame_free (frame);
      return;
    }
  g_ptr_array_add (state->stack, frame);
}

static gboolean
only_base64 (const char *text)
{
  for (const char *p = text; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && *p != '+' && *p != '/' && *p != '=' && !g_ascii_isspace (*p))
      return FALSE;
  return TRUE;
}

static GVariant *
leaf_value (GMarkupParseContext *context,
            Frame               *frame,
            GError             **error)
{
  const char *name = frame->element;
  char *text = frame->text->str;

  if (g_str_equal (name, "string"))
    return g_variant_new_string (text);
  if (g_str_equal (name, "true") || g_str_equal (name, "false"))
    {
      if (g_strstrip (text)[0] != '\0')
        {
          set_error (context, error, "text inside <%s/>", name);
          return NULL;
        }
      return g_variant_new_boolean (name[0] == 't');
    }
  if (g_str_equal (name, "integer"))
    {
      gint64 value;
      guint64 big;

      g_strstrip (text);
      if (g_ascii_string_to_signed (text, 10, G_MININT64, G_MAXINT64, &value, NULL))
        return g_variant_new_int64 (value);
      if (text[0] != '-' && text[0] != '+' &&
          g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT64, &big, NULL))
        return g_variant_new_uint64 (big);
      set_error (context, error, "<integer> that is not a 64-bit integer");
      return NULL;
    }
  if (g_str_equal (name, "real"))
    {
      char *end = NULL;
      double value;

      g_strstrip (text);
      value = g_ascii_strtod (text, &end);
      if (text[0] == '\0' || end == NULL || *end != '\0')
        {
          set_error (context, error, "<real> that is not a number");
          return NULL;
        }
      return g_variant_new_double (value);
    }
  if (g_str_equal (name, "date"))
    {
      g_autoptr(GDateTime) date = g_date_time_new_from_iso8601 (g_strstrip (text), NULL);

      if (date == NULL)
        {
          set_error (context, error, "<date> that is not an ISO 8601 date");
          return NULL;
        }
      return g_variant_new_take_string (g_date_time_format_iso8601 (date));
    }
  if (g_str_equal (name, "data"))
    {
      gsize len = 0;
      guchar *bytes;

      if (!only_base64 (text))
        {
          set_error (context, error, "<data> that is not base64");
          return NULL;
        }
      bytes = g_base64_decode (text, &len);
      return g_variant_new_from_data (G_VARIANT_TYPE_BYTESTRING, bytes, len, TRUE, g_free, bytes);
    }
  set_error (context, error, "<%s> that is not a value", name);
  return NULL;
}

static void
end_element_cb (GMarkupParseContext  *context,
                const char           *element,
                gpointer              user_data,
                GError              **error)
{
  ParseState *state = user_data;
  Frame *frame = g_ptr_array_steal_index (state->stack, state->stack->len - 1);
  GVariant *value = NULL;

  switch (frame->kind)
    {
    case FRAME_PLIST:
      if (state->root == NULL)
        set_error (context, error, "an empty <plist>");
      break;
    case FRAME_DICT:
      if (frame->key != NULL)
        {
          set_error (context, error, "the key \"%s\" has no value", frame->key);
          break;
        }
      {
        GVariantBuilder builder;

        g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
        for (guint i = 0; i < frame->values->len; i++)
          g_variant_builder_add (&builder, "{sv}", g_ptr_array_index (frame->keys, i),
                                 g_ptr_array_index (frame->values, i));
        value = g_variant_builder_end (&builder);
      }
      break;
    case FRAME_ARRAY:
      {
        GVariantBuilder builder;

        g_variant_builder_init (&builder, G_VARIANT_TYPE ("av"));
        for (guint i = 0; i < frame->values->len; i++)
          g_variant_builder_add (&builder, "v", g_ptr_array_index (frame->values, i));
        value = g_variant_builder_end (&builder);
      }
      break;
    case FRAME_LEAF:
    default:
      if (g_str_equal (frame->element, "key"))
        {
          Frame *dict = top (state);

          if (g_hash_table_contains (dict->seen, frame->text->str))
            set_error (context, error, "the key \"%s\" is given twice", frame->text->str);
          else
            {
              dict->key = g_strdup (frame->text->str);
              g_hash_table_add (dict->seen, dict->key);
            }
          break;
        }
      value = leaf_value (context, frame, error);
      break;
    }
  frame_free (frame);
  if (value != NULL)
    add_value (context, state, value, error);
}

static void
text_cb (GMarkupParseContext  *context,
         const char           *text,
         gsize                 length,
         gpointer              user_data,
         GError              **error)
{
  ParseState *state = user_data;
  Frame *frame = top (state);

  if (frame != NULL && frame->kind == FRAME_LEAF)
    {
      g_string_append_len (frame->text, text, length);
      return;
    }
  for (gsize i = 0; i < length; i++)
    if (!g_ascii_isspace (text[i]))
      {
        set_error (context, error, "text outside a value");
        return;
      }
}

static const GMarkupParser parser = {
  start_element_cb, end_element_cb, text_cb, NULL, NULL,
};

/**
 * moat_ios_plist_parse:
 *
 * Returns: (transfer full): the plist's one value (not floating), or %NULL
 *   with G_IO_ERROR_INVALID_DATA
 */
GVariant *
moat_ios_plist_parse (const char  *data,
                      gsize        length,
                      GError     **error)
{
  g_autoptr(GMarkupParseContext) context = NULL;
  g_autoptr(GError) local_error = NULL;
  ParseState state = { 0, };

  g_return_val_if_fail (data != NULL || length == 0, NULL);

  if (length > MOAT_IOS_PLIST_MAX_SIZE)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "plist of %" G_GSIZE_FORMAT " bytes is larger than %d", length,
                   MOAT_IOS_PLIST_MAX_SIZE);
      return NULL;
    }
  if (length >= 6 && memcmp (data, "bplist", 6) == 0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "a binary plist, not an XML one");
      return NULL;
    }
  if (length > 0 && memchr (data, '\0', length) != NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "plist is not text");
      return NULL;
    }
  state.stack = g_ptr_array_new_with_free_func ((GDestroyNotify) frame_free);
  context = g_markup_parse_context_new (&parser, G_MARKUP_PREFIX_ERROR_POSITION, &state, NULL);
  if (!g_markup_parse_context_parse (context, data, length, &local_error) ||
      !g_markup_parse_context_end_parse (context, &local_error))
    {
      /* GMarkup quotes the bad input, which need not be UTF-8 or short. */
      g_autofree char *valid = g_utf8_make_valid (local_error->message, -1);

      if (g_utf8_strlen (valid, -1) > MAX_MESSAGE)
        *g_utf8_offset_to_pointer (valid, MAX_MESSAGE) = '\0';
      g_ptr_array_unref (state.stack);
      g_clear_pointer (&state.root, g_variant_unref);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   local_error->domain != G_IO_ERROR ? "plist: %s" : "%s", valid);
      return NULL;
    }
  g_ptr_array_unref (state.stack);
  if (state.root == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "no <plist> in the answer");
      return NULL;
    }
  return state.root;
}

/**
 * moat_ios_plist_lookup:
 *
 * Returns: (transfer full) (nullable): @key's value in @dict if it has @type
 */
GVariant *
moat_ios_plist_lookup (GVariant           *dict,
                       const char         *key,
                       const GVariantType *type)
{
  if (dict == NULL || !g_variant_is_of_type (dict, G_VARIANT_TYPE_VARDICT))
    return NULL;
  return g_variant_lookup_value (dict, key, type);
}

const char *
moat_ios_plist_lookup_string (GVariant   *dict,
                              const char *key)
{
  g_autoptr(GVariant) value = moat_ios_plist_lookup (dict, key, G_VARIANT_TYPE_STRING);

  /* The string lives as long as @dict, which holds it. */
  return value != NULL ? g_variant_get_string (value, NULL) : NULL;
}

gboolean
moat_ios_plist_lookup_boolean (GVariant   *dict,
                               const char *key,
                               gboolean   *out_value)
{
  g_autoptr(GVariant) value = moat_ios_plist_lookup (dict, key, G_VARIANT_TYPE_BOOLEAN);

  if (value == NULL)
    return FALSE;
  if (out_value != NULL)
    *out_value = g_variant_get_boolean (value);
  return TRUE;
}
