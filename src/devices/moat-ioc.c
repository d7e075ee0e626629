/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-devices"

#include "config.h"

#include "moat-ioc.h"

#include "moat-android-apps.h"
#include "moat-error.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <stdlib.h>
#include <string.h>

/*
 * How a bundle is read, as MVT reads it (mvt/common/indicators.py): every
 * `malware` and `report` object names a collection; an indicator belongs to
 * the malware a relationship from it points at, or else to the report that
 * lists it, or else to none. Of each pattern only the comparisons
 * `object-type:property = 'string'` are kept (MVT takes patterns of exactly
 * one comparison; a pattern ORing several observables gives each here).
 * Unlike MVT, app ids are compared exactly: Android package names are
 * case-sensitive, so "com.Spy" is not "com.spy".
 */

typedef struct {
  MoatIocSource  pub;
  GPtrArray     *indicators;   /* owned, MoatIocIndicator */
} SourcePrivate;

struct _MoatIocSet
{
  GObject     parent_instance;

  /* owned */
  GPtrArray  *sources;                    /* SourcePrivate */
  /* value -> GPtrArray of MoatIocIndicator borrowed from the sources */
  GHashTable *index[MOAT_IOC_KIND_LAST];
};

G_DEFINE_TYPE (MoatIocSet, moat_ioc_set, G_TYPE_OBJECT)

G_DEFINE_BOXED_TYPE (MoatIocIndicator, moat_ioc_indicator,
                     moat_ioc_indicator_ref, moat_ioc_indicator_unref)
G_DEFINE_BOXED_TYPE (MoatIocSource, moat_ioc_source, moat_ioc_source_ref, moat_ioc_source_unref)

static const char *const kind_names[MOAT_IOC_KIND_LAST] = {
  [MOAT_IOC_KIND_APP_ID] = "app-id",
  [MOAT_IOC_KIND_APP_CERT] = "app-cert",
  [MOAT_IOC_KIND_DOMAIN] = "domain",
  [MOAT_IOC_KIND_IP] = "ip",
  [MOAT_IOC_KIND_URL] = "url",
  [MOAT_IOC_KIND_EMAIL] = "email",
  [MOAT_IOC_KIND_PROCESS] = "process",
  [MOAT_IOC_KIND_FILE_NAME] = "file-name",
  [MOAT_IOC_KIND_FILE_PATH] = "file-path",
  [MOAT_IOC_KIND_FILE_HASH] = "file-hash",
  [MOAT_IOC_KIND_ANDROID_PROPERTY] = "android-property",
  [MOAT_IOC_KIND_IOS_PROFILE] = "ios-profile",
};

/* The observables MVT knows, keyed as normalise_key() writes them. */
static const struct {
  const char  *key;
  MoatIocKind  kind;
} observables[] = {
  { "app:id", MOAT_IOC_KIND_APP_ID },
  { "app:cert.md5", MOAT_IOC_KIND_APP_CERT },
  { "app:cert.sha1", MOAT_IOC_KIND_APP_CERT },
  { "app:cert.sha256", MOAT_IOC_KIND_APP_CERT },
  { "domain-name:value", MOAT_IOC_KIND_DOMAIN },
  { "ipv4-addr:value", MOAT_IOC_KIND_IP },
  { "ipv6-addr:value", MOAT_IOC_KIND_IP },
  { "url:value", MOAT_IOC_KIND_URL },
  { "email-addr:value", MOAT_IOC_KIND_EMAIL },
  { "process:name", MOAT_IOC_KIND_PROCESS },
  { "file:name", MOAT_IOC_KIND_FILE_NAME },
  { "file:path", MOAT_IOC_KIND_FILE_PATH },
  { "file:hashes.md5", MOAT_IOC_KIND_FILE_HASH },
  { "file:hashes.sha1", MOAT_IOC_KIND_FILE_HASH },
  { "file:hashes.sha256", MOAT_IOC_KIND_FILE_HASH },
  { "android-property:name", MOAT_IOC_KIND_ANDROID_PROPERTY },
  { "configuration-profile:id", MOAT_IOC_KIND_IOS_PROFILE },
};

G_STATIC_ASSERT (G_N_ELEMENTS (kind_names) == MOAT_IOC_KIND_LAST);

const char *
moat_ioc_kind_to_string (MoatIocKind kind)
{
  g_return_val_if_fail (kind < MOAT_IOC_KIND_LAST, NULL);
  return kind_names[kind];
}

/* Indicators and sources */

static MoatIocIndicator *
indicator_new (MoatIocKind  kind,
               const char  *value,
               const char  *malware,
               const char  *source)
{
  MoatIocIndicator *ind = g_atomic_rc_box_new0 (MoatIocIndicator);

  ind->kind = kind;
  ind->value = g_strdup (value);
  ind->malware = malware != NULL ? g_ref_string_new_intern (malware) : NULL;
  ind->source = g_ref_string_new_intern (source);
  return ind;
}

static void
indicator_clear (MoatIocIndicator *ind)
{
  g_free (ind->value);
  g_clear_pointer (&ind->malware, g_ref_string_release);
  g_clear_pointer (&ind->source, g_ref_string_release);
}

MoatIocIndicator *
moat_ioc_indicator_ref (MoatIocIndicator *indicator)
{
  g_return_val_if_fail (indicator != NULL, NULL);
  return g_atomic_rc_box_acquire (indicator);
}

void
moat_ioc_indicator_unref (MoatIocIndicator *indicator)
{
  if (indicator != NULL)
    g_atomic_rc_box_release_full (indicator, (GDestroyNotify) indicator_clear);
}

static void
source_clear (SourcePrivate *priv)
{
  g_free (priv->pub.name);
  g_strfreev (priv->pub.malware);
  g_clear_pointer (&priv->indicators, g_ptr_array_unref);
}

MoatIocSource *
moat_ioc_source_ref (MoatIocSource *source)
{
  g_return_val_if_fail (source != NULL, NULL);
  return g_atomic_rc_box_acquire (source);
}

void
moat_ioc_source_unref (MoatIocSource *source)
{
  if (source != NULL)
    g_atomic_rc_box_release_full (source, (GDestroyNotify) source_clear);
}

/* Errors */

static gboolean G_GNUC_PRINTF (3, 4)
fail (GError    **error,
      MoatError   code,
      const char *format,
      ...)
{
  va_list args;

  va_start (args, format);
  if (error != NULL)
    *error = g_error_new_valist (MOAT_ERROR, code, format, args);
  va_end (args);
  return FALSE;
}

/* Values */

static gboolean
is_hex (const char *s)
{
  for (; *s != '\0'; s++)
    if (!g_ascii_isxdigit (*s))
      return FALSE;
  return TRUE;
}

static gboolean
has_control (const char *s)
{
  for (; *s != '\0'; s++)
    if ((guchar) *s < 0x20 || *s == 0x7f)
      return TRUE;
  return FALSE;
}

/* Lower case, without one trailing dot: "Spy-C2.Example." -> "spy-c2.example".
 * Non-ASCII letters stay as they are. NULL when it cannot be a name. */
static char *
normalise_domain (const char *text)
{
  g_autofree char *d = g_ascii_strdown (text, -1);
  gsize len = strlen (d);

  if (len > 0 && d[len - 1] == '.')
    d[--len] = '\0';
  if (len == 0 || len > 253 || d[0] == '.' || d[len - 1] == '.' || strstr (d, "..") != NULL)
    return NULL;
  for (const char *p = d; *p != '\0'; p++)
    if (g_ascii_isspace (*p) || strchr ("/\\:@*?#[]", *p) != NULL)
      return NULL;
  return g_steal_pointer (&d);
}

/* "AB:CD:..." -> "abcd...": MD5, SHA-1 or SHA-256 in hex, NULL otherwise. */
static char *
normalise_hash (const char *text)
{
  g_autoptr(GString) s = g_string_new (NULL);

  for (const char *p = text; *p != '\0'; p++)
    if (*p != ':')
      g_string_append_c (s, g_ascii_tolower (*p));
  if (!is_hex (s->str) || (s->len != 32 && s->len != 40 && s->len != 64))
    return NULL;
  return g_string_free (g_steal_pointer (&s), FALSE);
}

static char *
normalise_ip (const char *text)
{
  g_autoptr(GInetAddress) address = NULL;

  if (!g_hostname_is_ip_address (text))
    return NULL;
  address = g_inet_address_new_from_string (text);
  return address != NULL ? g_inet_address_to_string (address) : NULL;
}

/* The value a comparison gives, as the set keeps it; NULL to skip it. */
static char *
normalise_value (MoatIocKind  kind,
                 const char  *raw)
{
  g_autofree char *value = g_strstrip (g_strdup (raw));

  if (value[0] == '\0' || has_control (value))
    return NULL;
  switch (kind)
    {
    case MOAT_IOC_KIND_DOMAIN:
      return normalise_domain (value);
    case MOAT_IOC_KIND_APP_CERT:
    case MOAT_IOC_KIND_FILE_HASH:
      return normalise_hash (value);
    case MOAT_IOC_KIND_IP:
      return normalise_ip (value);
    case MOAT_IOC_KIND_EMAIL:
      return strchr (value, '@') != NULL ? g_ascii_strdown (value, -1) : NULL;
    case MOAT_IOC_KIND_APP_ID:
      return strpbrk (value, " \t") == NULL ? g_steal_pointer (&value) : NULL;
    case MOAT_IOC_KIND_URL:
    case MOAT_IOC_KIND_PROCESS:
    case MOAT_IOC_KIND_FILE_NAME:
    case MOAT_IOC_KIND_FILE_PATH:
    case MOAT_IOC_KIND_ANDROID_PROPERTY:
    case MOAT_IOC_KIND_IOS_PROFILE:
    default:
      return g_steal_pointer (&value);
    }
}

/* "file:hashes.'SHA-256'" -> "file:hashes.sha256", as MVT reads the
 * hash algorithm either way; other object paths stay as they are. */
static char *
normalise_key (const char *path)
{
  static const char *const seps[] = { "hashes.", "cert." };

  for (guint i = 0; i < G_N_ELEMENTS (seps); i++)
    {
      const char *at = strstr (path, seps[i]);
      GString *key;

      if (at == NULL)
        continue;
      at += strlen (seps[i]);
      key = g_string_new_len (path, at - path);
      for (; *at != '\0'; at++)
        if (*at != '\'' && *at != '-')
          g_string_append_c (key, g_ascii_tolower (*at));
      return g_string_free (key, FALSE);
    }
  return g_strdup (path);
}

static gboolean
lookup_kind (const char  *path,
             MoatIocKind *out_kind)
{
  g_autofree char *key = normalise_key (path);

  for (guint i = 0; i < G_N_ELEMENTS (observables); i++)
    if (g_str_equal (key, observables[i].key))
      {
        *out_kind = observables[i].kind;
        return TRUE;
      }
  return FALSE;
}

/* Patterns */

typedef enum {
  TOK_NONE,
  TOK_PATH,     /* object-type:property */
  TOK_WORD,     /* AND, OR, NOT, LIKE, numbers, true ... */
  TOK_STRING,
  TOK_LITERAL,  /* t'...', h'...', b'...' */
  TOK_EQ,
  TOK_OP,       /* != < <= > >= */
  TOK_PUNCT,    /* [ ] ( ) , */
} TokenType;

typedef void (*ComparisonFunc) (const char *path,
                                const char *value,
                                gpointer    user_data);

static gboolean
is_path_char (char c)
{
  return g_ascii_isalnum (c) || c == '_' || c == '-' || c == ':' || c == '.';
}

/* A quoted string at text[*i] (the opening quote); *i ends past the closing
 * one. \' and \\ are escapes; a backslash before anything else is kept. */
static gboolean
scan_string (const char  *text,
             gsize        len,
             gsize       *i,
             GString     *out,
             GError     **error)
{
  gsize start = *i;

  g_string_truncate (out, 0);
  for ((*i)++; *i < len; (*i)++)
    {
      char c = text[*i];

      if (c == '\'')
        {
          (*i)++;
          return TRUE;
        }
      if (c == '\\' && *i + 1 < len && (text[*i + 1] == '\'' || text[*i + 1] == '\\'))
        c = text[++(*i)];
      g_string_append_c (out, c);
    }
  return fail (error, MOAT_ERROR_INVALID_ARGUMENT,
               "the string at offset %" G_GSIZE_FORMAT " is not closed", start);
}

/*
 * Calls @func for each `path = 'string'` comparison of a STIX pattern and
 * checks the rest is made of STIX pattern tokens with balanced brackets;
 * comparisons of other kinds (!=, LIKE, MATCHES, IN, NOT =) are skipped and
 * counted in @out_other.
 */
static gboolean
scan_pattern (const char     *text,
              ComparisonFunc  func,
              gpointer        user_data,
              guint          *out_other,
              GError        **error)
{
  gsize len = strlen (text);
  g_autoptr(GString) str = g_string_new (NULL);
  g_autoptr(GString) path = g_string_new (NULL);
  TokenType prev = TOK_NONE, prev2 = TOK_NONE;
  int brackets = 0, parens = 0;
  guint comparisons = 0, other = 0;

  for (gsize i = 0; i < len;)
    {
      char c = text[i];
      TokenType tok;

      if (g_ascii_isspace (c))
        {
          i++;
          continue;
        }
      if (c == '[' || c == ']' || c == '(' || c == ')' || c == ',')
        {
          brackets += c == '[' ? 1 : c == ']' ? -1 : 0;
          parens += c == '(' ? 1 : c == ')' ? -1 : 0;
          if (brackets < 0 || parens < 0)
            return fail (error, MOAT_ERROR_INVALID_ARGUMENT,
                         "unbalanced “%c” at offset %" G_GSIZE_FORMAT, c, i);
          tok = TOK_PUNCT;
          i++;
        }
      else if (c == '\'')
        {
          if (!scan_string (text, len, &i, str, error))
            return FALSE;
          tok = TOK_STRING;
        }
      else if (c == '=')
        {
          tok = TOK_EQ;
          i++;
        }
      else if (c == '!' || c == '<' || c == '>')
        {
          if (c == '!' && (i + 1 >= len || text[i + 1] != '='))
            return fail (error, MOAT_ERROR_INVALID_ARGUMENT,
                         "unexpected “!” at offset %" G_GSIZE_FORMAT, i);
          i += (i + 1 < len && text[i + 1] == '=') ? 2 : 1;
          tok = TOK_OP;
        }
      else if (is_path_char (c) || c == '+')
        {
          gsize start = i;

          g_string_truncate (path, 0);
          while (i < len)
            {
              if (is_path_char (text[i]) || (text[i] == '+' && i == start))
                g_string_append_c (path, text[i++]);
              else if (text[i] == '\'' && i > start && text[i - 1] == '.')
                {
                  /* a quoted path step: file:hashes.'SHA-256' */
                  if (!scan_string (text, len, &i, str, error))
                    return FALSE;
                  g_string_append_printf (path, "'%s'", str->str);
                }
              else if (text[i] == '[' && i + 1 < len &&
                       (text[i + 1] == '*' || g_ascii_isdigit (text[i + 1])))
                {
                  /* a list index: extensions.x.sections[*].name */
                  while (i < len && text[i] != ']')
                    g_string_append_c (path, text[i++]);
                  if (i == len)
                    return fail (error, MOAT_ERROR_INVALID_ARGUMENT,
                                 "unbalanced “[” at offset %" G_GSIZE_FORMAT, start);
                  g_string_append_c (path, text[i++]);
                }
              else
                break;
            }
          if (path->len == 1 && strchr ("thb", path->str[0]) != NULL &&
              i < len && text[i] == '\'')
            {
              if (!scan_string (text, len, &i, str, error))
                return FALSE;
              tok = TOK_LITERAL;
            }
          else
            tok = strchr (path->str, ':') != NULL ? TOK_PATH : TOK_WORD;
        }
      else
        return fail (error, MOAT_ERROR_INVALID_ARGUMENT,
                     "unexpected “%c” at offset %" G_GSIZE_FORMAT, g_ascii_isprint (c) ? c : '?',
                     i);

      if (tok == TOK_STRING && prev == TOK_EQ && prev2 == TOK_PATH)
        {
          if (++comparisons > MOAT_IOC_MAX_COMPARISONS)
            return fail (error, MOAT_ERROR_LIMIT_EXCEEDED, "more than %d comparisons",
                         MOAT_IOC_MAX_COMPARISONS);
          func (path->str, str->str, user_data);
        }
      else if (prev == TOK_PATH && tok != TOK_EQ)
        other++;   /* !=, <, LIKE, MATCHES, IN, NOT = ... */
      /* The path of a comparison stays in @path until its value comes. */
      if (tok == TOK_STRING || tok == TOK_LITERAL || tok == TOK_PUNCT)
        g_string_truncate (path, 0);
      prev2 = prev;
      prev = tok;
    }
  if (brackets != 0 || parens != 0)
    return fail (error, MOAT_ERROR_INVALID_ARGUMENT, "unbalanced brackets");
  *out_other = other;
  return TRUE;
}

/* Bundles */

typedef struct {
  const char *id;
  const char *pattern;
  gboolean    skip;        /* not a STIX pattern, or revoked */
} PendingIndicator;

typedef struct {
  /* borrowed from the JSON tree */
  GHashTable *malware;        /* id -> name */
  GHashTable *indicates;      /* indicator id -> malware name (relationships) */
  GHashTable *reported;       /* indicator id -> report name */
  GArray     *indicators;     /* PendingIndicator */
  GPtrArray  *names;          /* malware and report names in order */
  GPtrArray  *relationships;  /* JsonObject */

  /* the source being built */
  SourcePrivate *source;
  GHashTable    *seen;        /* "kind\x1fvalue\x1fmalware" */
  const char    *current_malware;
} Bundle;

static void
bundle_clear (Bundle *b)
{
  g_clear_pointer (&b->malware, g_hash_table_unref);
  g_clear_pointer (&b->indicates, g_hash_table_unref);
  g_clear_pointer (&b->reported, g_hash_table_unref);
  g_clear_pointer (&b->indicators, g_array_unref);
  g_clear_pointer (&b->names, g_ptr_array_unref);
  g_clear_pointer (&b->relationships, g_ptr_array_unref);
  g_clear_pointer (&b->seen, g_hash_table_unref);
  if (b->source != NULL)
    moat_ioc_source_unref (&b->source->pub);
  b->source = NULL;
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Bundle, bundle_clear)

/* A string member: %NULL in *out when absent (or null) and not @required. */
static gboolean
get_string (JsonObject  *obj,
            const char  *member,
            gboolean     required,
            gsize        max,
            guint        index,
            const char **out,
            GError     **error)
{
  JsonNode *node = json_object_get_member (obj, member);
  const char *s;

  *out = NULL;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    {
      if (required)
        return fail (error, MOAT_ERROR_INVALID_ARGUMENT, "objects[%u] has no “%s”", index, member);
      return TRUE;
    }
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return fail (error, MOAT_ERROR_INVALID_ARGUMENT, "objects[%u].%s is not a string", index,
                 member);
  s = json_node_get_string (node);
  if (strlen (s) > max)
    return fail (error, MOAT_ERROR_LIMIT_EXCEEDED, "objects[%u].%s is longer than %"
                 G_GSIZE_FORMAT " bytes", index, member, max);
  if (!g_utf8_validate (s, -1, NULL))
    return fail (error, MOAT_ERROR_INVALID_ARGUMENT, "objects[%u].%s is not UTF-8", index,
                 member);
  *out = s;
  return TRUE;
}

static void
add_name (Bundle     *b,
          const char *name)
{
  for (guint i = 0; i < b->names->len; i++)
    if (g_str_equal (g_ptr_array_index (b->names, i), name))
      return;
  g_ptr_array_add (b->names, (gpointer) name);
}

static gboolean
read_object (Bundle     *b,
             JsonNode   *node,
             guint       index,
             GError    **error)
{
  JsonObject *obj;
  const char *type, *id, *name, *s;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    return fail (error, MOAT_ERROR_INVALID_ARGUMENT, "objects[%u] is not a JSON object", index);
  obj = json_node_get_object (node);
  if (!get_string (obj, "type", TRUE, MOAT_IOC_MAX_STRING, index, &type, error) ||
      !get_string (obj, "id", FALSE, MOAT_IOC_MAX_STRING, index, &id, error))
    return FALSE;

  if (g_str_equal (type, "malware") || g_str_equal (type, "report"))
    {
      if (!get_string (obj, "name", FALSE, MOAT_IOC_MAX_STRING, index, &name, error))
        return FALSE;
      if (name == NULL || name[0] == '\0')
        name = id;
      if (name == NULL)
        return TRUE;   /* neither a name nor an id: nothing can point at it */
      add_name (b, name);
      if (g_str_equal (type, "malware"))
        {
          if (id != NULL && !g_hash_table_contains (b->malware, id))
            g_hash_table_insert (b->malware, (gpointer) id, (gpointer) name);
        }
      else
        {
          JsonNode *refs = json_object_get_member (obj, "object_refs");
          JsonArray *array;

          if (refs == NULL || JSON_NODE_HOLDS_NULL (refs))
            return TRUE;
          if (!JSON_NODE_HOLDS_ARRAY (refs))
            return fail (error, MOAT_ERROR_INVALID_ARGUMENT,
                         "objects[%u].object_refs is not an array", index);
          array = json_node_get_array (refs);
          for (guint i = 0; i < json_array_get_length (array); i++)
            {
              JsonNode *ref = json_array_get_element (array, i);

              if (!JSON_NODE_HOLDS_VALUE (ref) || json_node_get_value_type (ref) != G_TYPE_STRING)
                return fail (error, MOAT_ERROR_INVALID_ARGUMENT,
                             "objects[%u].object_refs[%u] is not a string", index, i);
              s = json_node_get_string (ref);
              if (!g_hash_table_contains (b->reported, s))
                g_hash_table_insert (b->reported, (gpointer) s, (gpointer) name);
            }
        }
    }
  else if (g_str_equal (type, "indicator"))
    {
      PendingIndicator ind = { id, NULL, FALSE };
      JsonNode *revoked = json_object_get_member (obj, "revoked");

      if (!get_string (obj, "pattern", TRUE, MOAT_IOC_MAX_PATTERN, index, &ind.pattern, error) ||
          !get_string (obj, "pattern_type", FALSE, MOAT_IOC_MAX_STRING, index, &s, error))
        return FALSE;
      ind.skip = (s != NULL && !g_str_equal (s, "stix")) ||
                 (revoked != NULL && JSON_NODE_HOLDS_VALUE (revoked) &&
                  json_node_get_value_type (revoked) == G_TYPE_BOOLEAN &&
                  json_node_get_boolean (revoked));
      g_array_append_val (b->indicators, ind);
    }
  else if (g_str_equal (type, "relationship"))
    {
      const char *source_ref, *target_ref;

      if (!get_string (obj, "source_ref", TRUE, MOAT_IOC_MAX_STRING, index, &source_ref, error) ||
          !get_string (obj, "target_ref", TRUE, MOAT_IOC_MAX_STRING, index, &target_ref, error) ||
          !get_string (obj, "relationship_type", FALSE, MOAT_IOC_MAX_STRING, index, &s, error))
        return FALSE;
      g_ptr_array_add (b->relationships, obj);
    }
  /* identity, marking-definition, campaign ...: nothing to take */
  return TRUE;
}

static void
on_comparison (const char *path,
               const char *raw,
               gpointer    user_data)
{
  Bundle *b = user_data;
  MoatIocKind kind;
  g_autofree char *value = NULL;
  char *key;

  if (!lookup_kind (path, &kind) || (value = normalise_value (kind, raw)) == NULL)
    {
      b->source->pub.n_skipped++;
      return;
    }
  if (kind == MOAT_IOC_KIND_DOMAIN)
    {
      /* An address given as a domain (MVT files both as domains). */
      g_autofree char *ip = normalise_ip (value);

      if (ip != NULL)
        {
          kind = MOAT_IOC_KIND_IP;
          g_free (value);
          value = g_steal_pointer (&ip);
        }
    }
  key = g_strdup_printf ("%d\x1f%s\x1f%s", kind, value,
                         b->current_malware != NULL ? b->current_malware : "");
  if (!g_hash_table_add (b->seen, key))
    return;
  g_ptr_array_add (b->source->indicators,
                   indicator_new (kind, value, b->current_malware, b->source->pub.name));
  b->source->pub.counts[kind]++;
  b->source->pub.n_indicators++;
}

static gboolean
check_depth (const char  *data,
             gsize        len,
             GError     **error)
{
  gboolean in_string = FALSE;
  int depth = 0;

  for (gsize i = 0; i < len; i++)
    {
      char c = data[i];

      if (in_string)
        {
          if (c == '\\')
            i++;
          else if (c == '"')
            in_string = FALSE;
        }
      else if (c == '"')
        in_string = TRUE;
      else if (c == '[' || c == '{')
        {
          if (++depth > MOAT_IOC_MAX_DEPTH)
            return fail (error, MOAT_ERROR_LIMIT_EXCEEDED,
                         "JSON nested deeper than %d levels", MOAT_IOC_MAX_DEPTH);
        }
      else if (c == ']' || c == '}')
        depth--;
    }
  return TRUE;
}

/* The whole bundle into b->source, or an error and nothing. */
static gboolean
read_bundle (Bundle      *b,
             const char  *data,
             gsize        len,
             const char  *source_name,
             GError     **error)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  g_autoptr(GError) local_error = NULL;
  JsonNode *root, *objects_node, *type_node;
  JsonObject *root_obj;
  JsonArray *objects;
  guint n;

  if (len > MOAT_IOC_MAX_BUNDLE_SIZE)
    return fail (error, MOAT_ERROR_LIMIT_EXCEEDED, "larger than %d MiB",
                 MOAT_IOC_MAX_BUNDLE_SIZE / (1024 * 1024));
  if (!g_utf8_validate_len (data, len, NULL))
    return fail (error, MOAT_ERROR_INVALID_ARGUMENT, "not UTF-8 text");
  if (!check_depth (data, len, error))
    return FALSE;
  if (!json_parser_load_from_data (parser, data, len, &local_error))
    return fail (error, MOAT_ERROR_INVALID_ARGUMENT, "not JSON: %s", local_error->message);
  root = json_parser_get_root (parser);
  if (root == NULL)
    return fail (error, MOAT_ERROR_INVALID_ARGUMENT, "not JSON: empty");
  if (!JSON_NODE_HOLDS_OBJECT (root))
    return fail (error, MOAT_ERROR_INVALID_ARGUMENT, "not a STIX bundle: not a JSON object");
  root_obj = json_node_get_object (root);
  type_node = json_object_get_member (root_obj, "type");
  if (type_node == NULL || !JSON_NODE_HOLDS_VALUE (type_node) ||
      json_node_get_value_type (type_node) != G_TYPE_STRING ||
      g_strcmp0 (json_node_get_string (type_node), "bundle") != 0)
    return fail (error, MOAT_ERROR_INVALID_ARGUMENT, "not a STIX bundle: its type is not “bundle”");
  objects_node = json_object_get_member (root_obj, "objects");
  if (objects_node != NULL && !JSON_NODE_HOLDS_ARRAY (objects_node))
    return fail (error, MOAT_ERROR_INVALID_ARGUMENT, "not a STIX bundle: “objects” is not an array");
  objects = objects_node != NULL ? json_node_get_array (objects_node) : NULL;
  n = objects != NULL ? json_array_get_length (objects) : 0;
  if (n > MOAT_IOC_MAX_OBJECTS)
    return fail (error, MOAT_ERROR_LIMIT_EXCEEDED, "more than %d objects", MOAT_IOC_MAX_OBJECTS);

  b->malware = g_hash_table_new (g_str_hash, g_str_equal);
  b->indicates = g_hash_table_new (g_str_hash, g_str_equal);
  b->reported = g_hash_table_new (g_str_hash, g_str_equal);
  b->indicators = g_array_new (FALSE, FALSE, sizeof (PendingIndicator));
  b->names = g_ptr_array_new ();
  b->relationships = g_ptr_array_new ();
  b->seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  b->source = g_atomic_rc_box_new0 (SourcePrivate);
  b->source->pub.name = g_strdup (source_name);
  b->source->indicators = g_ptr_array_new_with_free_func ((GDestroyNotify) moat_ioc_indicator_unref);

  for (guint i = 0; i < n; i++)
    if (!read_object (b, json_array_get_element (objects, i), i, error))
      return FALSE;

  /* Relationships may come before the malware they point at. */
  for (guint i = 0; i < b->relationships->len; i++)
    {
      JsonObject *rel = g_ptr_array_index (b->relationships, i);
      const char *source_ref = json_object_get_string_member (rel, "source_ref");
      const char *name = g_hash_table_lookup (b->malware,
                                              json_object_get_string_member (rel, "target_ref"));

      if (name != NULL && !g_hash_table_contains (b->indicates, source_ref))
        g_hash_table_insert (b->indicates, (gpointer) source_ref, (gpointer) name);
    }

  for (guint i = 0; i < b->indicators->len; i++)
    {
      PendingIndicator *ind = &g_array_index (b->indicators, PendingIndicator, i);
      guint other = 0;

      b->current_malware = NULL;
      if (ind->id != NULL)
        {
          b->current_malware = g_hash_table_lookup (b->indicates, ind->id);
          if (b->current_malware == NULL)
            b->current_malware = g_hash_table_lookup (b->reported, ind->id);
        }
      if (ind->skip)
        {
          b->source->pub.n_skipped++;
          continue;
        }
      if (!scan_pattern (ind->pattern, on_comparison, b, &other, error))
        {
          g_prefix_error (error, "%s: pattern: ", ind->id != NULL ? ind->id : "indicator");
          return FALSE;
        }
      b->source->pub.n_skipped += other;
    }

  g_ptr_array_add (b->names, NULL);
  b->source->pub.malware = g_strdupv ((GStrv) b->names->pdata);
  return TRUE;
}

/* The set */

static void
index_source (MoatIocSet    *self,
              SourcePrivate *source)
{
  for (guint i = 0; i < source->indicators->len; i++)
    {
      MoatIocIndicator *ind = g_ptr_array_index (source->indicators, i);
      GHashTable *index = self->index[ind->kind];
      GPtrArray *list = g_hash_table_lookup (index, ind->value);

      if (list == NULL)
        {
          list = g_ptr_array_new ();
          g_hash_table_insert (index, ind->value, list);
        }
      g_ptr_array_add (list, ind);
    }
}

static void
reindex (MoatIocSet *self)
{
  for (guint k = 0; k < MOAT_IOC_KIND_LAST; k++)
    g_hash_table_remove_all (self->index[k]);
  for (guint i = 0; i < self->sources->len; i++)
    index_source (self, g_ptr_array_index (self->sources, i));
}

static gboolean
unlink_source (MoatIocSet *self,
               const char *name)
{
  for (guint i = 0; i < self->sources->len; i++)
    {
      MoatIocSource *s = g_ptr_array_index (self->sources, i);

      if (g_str_equal (s->name, name))
        {
          g_ptr_array_remove_index (self->sources, i);
          return TRUE;
        }
    }
  return FALSE;
}

/* Takes @source; one of the same name is replaced. */
static void
add_source (MoatIocSet    *self,
            SourcePrivate *source)
{
  gboolean replaced = unlink_source (self, source->pub.name);

  g_ptr_array_add (self->sources, source);
  if (replaced)
    reindex (self);
  else
    index_source (self, source);
}

static void
moat_ioc_set_finalize (GObject *object)
{
  MoatIocSet *self = MOAT_IOC_SET (object);

  for (guint k = 0; k < MOAT_IOC_KIND_LAST; k++)
    g_clear_pointer (&self->index[k], g_hash_table_unref);
  g_clear_pointer (&self->sources, g_ptr_array_unref);

  G_OBJECT_CLASS (moat_ioc_set_parent_class)->finalize (object);
}

static void
moat_ioc_set_class_init (MoatIocSetClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = moat_ioc_set_finalize;
}

static void
moat_ioc_set_init (MoatIocSet *self)
{
  self->sources = g_ptr_array_new_with_free_func ((GDestroyNotify) moat_ioc_source_unref);
  for (guint k = 0; k < MOAT_IOC_KIND_LAST; k++)
    self->index[k] = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                            (GDestroyNotify) g_ptr_array_unref);
}

MoatIocSet *
moat_ioc_set_new (void)
{
  return g_object_new (MOAT_TYPE_IOC_SET, NULL);
}

/**
 * moat_ioc_set_load_bytes:
 * @bytes: a STIX 2.1 bundle, JSON
 * @source_name: what to call it (a file's base name); a source loaded
 *   before under the same name is replaced
 *
 * Adds the indicators of one bundle, all of them or, with an error in
 * MOAT_ERROR saying what is wrong, none: INVALID_ARGUMENT when it is not
 * UTF-8 JSON, not a bundle, an object lacks or mistypes a member MVT needs
 * (an indicator's pattern, a relationship's refs), or a pattern is not STIX
 * pattern syntax; LIMIT_EXCEEDED past one of the MOAT_IOC_MAX_* limits.
 * Comparisons of kinds MVT does not know are skipped and counted.
 */
gboolean
moat_ioc_set_load_bytes (MoatIocSet  *self,
                         GBytes      *bytes,
                         const char  *source_name,
                         GError     **error)
{
  g_auto(Bundle) b = { 0 };
  gsize len = 0;
  const char *data;

  g_return_val_if_fail (MOAT_IS_IOC_SET (self), FALSE);
  g_return_val_if_fail (bytes != NULL, FALSE);
  g_return_val_if_fail (source_name != NULL, FALSE);

  if (source_name[0] == '\0' || strlen (source_name) > MOAT_IOC_MAX_SOURCE_NAME ||
      !g_utf8_validate (source_name, -1, NULL) || has_control (source_name))
    return fail (error, MOAT_ERROR_INVALID_ARGUMENT, "unusable indicator source name");
  data = g_bytes_get_data (bytes, &len);
  if (!read_bundle (&b, data != NULL ? data : "", len, source_name, error))
    {
      g_prefix_error (error, "%s: ", source_name);
      return FALSE;
    }
  g_debug ("%s: %u indicators, %u skipped", source_name, b.source->pub.n_indicators,
           b.source->pub.n_skipped);
  add_source (self, g_steal_pointer (&b.source));
  return TRUE;
}

/**
 * moat_ioc_set_load_file:
 *
 * moat_ioc_set_load_bytes() on a file's contents, under its base name. It
 * blocks: run it in a worker thread. Errors are MOAT_ERROR.
 */
gboolean
moat_ioc_set_load_file (MoatIocSet    *self,
                        GFile         *file,
                        GCancellable  *cancellable,
                        GError       **error)
{
  g_autoptr(GFileInputStream) stream = NULL;
  g_autoptr(GByteArray) buffer = g_byte_array_new ();
  g_autoptr(GBytes) bytes = NULL;
  g_autofree char *basename = NULL;
  g_autofree char *display = NULL;
  g_autofree char *name = NULL;

  g_return_val_if_fail (MOAT_IS_IOC_SET (self), FALSE);
  g_return_val_if_fail (G_IS_FILE (file), FALSE);

  basename = g_file_get_basename (file);
  display = g_filename_display_name (basename != NULL ? basename : "indicators");
  /* Past the string's end, g_utf8_substring() reads past it too. */
  if (g_utf8_strlen (display, -1) > MOAT_IOC_MAX_SOURCE_NAME / 4)
    name = g_utf8_substring (display, 0, MOAT_IOC_MAX_SOURCE_NAME / 4);
  else
    name = g_strdup (display);
  stream = g_file_read (file, cancellable, error);
  if (stream == NULL)
    goto failed;
  for (;;)
    {
      guint8 chunk[65536];
      gssize n = g_input_stream_read (G_INPUT_STREAM (stream), chunk, sizeof chunk,
                                      cancellable, error);

      if (n < 0)
        goto failed;
      if (n == 0)
        break;
      if (buffer->len + (gsize) n > MOAT_IOC_MAX_BUNDLE_SIZE)
        return fail (error, MOAT_ERROR_LIMIT_EXCEEDED, "%s: larger than %d MiB", name,
                     MOAT_IOC_MAX_BUNDLE_SIZE / (1024 * 1024));
      g_byte_array_append (buffer, chunk, n);
    }
  bytes = g_byte_array_free_to_bytes (g_steal_pointer (&buffer));
  return moat_ioc_set_load_bytes (self, bytes, name, error);

failed:
  moat_error_convert (error);
  g_prefix_error (error, "%s: ", name);
  return FALSE;
}

/**
 * moat_ioc_set_merge:
 * @other: a set whose sources are added to @self (those named as one of
 *   @self's replace it); @other keeps them too
 */
void
moat_ioc_set_merge (MoatIocSet *self,
                    MoatIocSet *other)
{
  g_return_if_fail (MOAT_IS_IOC_SET (self));
  g_return_if_fail (MOAT_IS_IOC_SET (other));

  if (self == other)
    return;
  for (guint i = 0; i < other->sources->len; i++)
    add_source (self, (SourcePrivate *) moat_ioc_source_ref (g_ptr_array_index (other->sources,
                                                                                i)));
}

/* Returns whether there was a source of that name. */
gboolean
moat_ioc_set_remove_source (MoatIocSet *self,
                            const char *source_name)
{
  g_return_val_if_fail (MOAT_IS_IOC_SET (self), FALSE);
  g_return_val_if_fail (source_name != NULL, FALSE);

  if (!unlink_source (self, source_name))
    return FALSE;
  reindex (self);
  return TRUE;
}

/* No indicator at all (sources without any may be loaded). */
gboolean
moat_ioc_set_is_empty (MoatIocSet *self)
{
  g_return_val_if_fail (MOAT_IS_IOC_SET (self), TRUE);

  for (guint k = 0; k < MOAT_IOC_KIND_LAST; k++)
    if (g_hash_table_size (self->index[k]) > 0)
      return FALSE;
  return TRUE;
}

/* Distinct values of @kind over all sources. */
guint
moat_ioc_set_get_count (MoatIocSet  *self,
                        MoatIocKind  kind)
{
  g_return_val_if_fail (MOAT_IS_IOC_SET (self), 0);
  g_return_val_if_fail (kind < MOAT_IOC_KIND_LAST, 0);

  return g_hash_table_size (self->index[kind]);
}

guint
moat_ioc_set_get_n_skipped (MoatIocSet *self)
{
  guint n = 0;

  g_return_val_if_fail (MOAT_IS_IOC_SET (self), 0);

  for (guint i = 0; i < self->sources->len; i++)
    n += ((MoatIocSource *) g_ptr_array_index (self->sources, i))->n_skipped;
  return n;
}

/**
 * moat_ioc_set_get_sources:
 *
 * Returns: (transfer none) (element-type MoatIocSource): the sources in the
 *   order they were loaded, valid until the set changes
 */
GPtrArray *
moat_ioc_set_get_sources (MoatIocSet *self)
{
  g_return_val_if_fail (MOAT_IS_IOC_SET (self), NULL);

  return self->sources;
}

static void
append_matches (GPtrArray  *out,
                GHashTable *index,
                const char *value)
{
  GPtrArray *list = g_hash_table_lookup (index, value);

  for (guint i = 0; list != NULL && i < list->len; i++)
    g_ptr_array_add (out, moat_ioc_indicator_ref (g_ptr_array_index (list, i)));
}

static int
compare_strings (const void *a,
                 const void *b)
{
  return strcmp (*(char * const *) a, *(char * const *) b);
}

static GPtrArray *
new_match_array (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify) moat_ioc_indicator_unref);
}

/**
 * moat_ioc_set_match_package:
 * @package_name: an app's package name, compared exactly
 * @cert_sha256: (nullable): the SHA-256 of its signing certificate, in hex
 *   (colons and case do not matter)
 *
 * Returns: (transfer full) (element-type MoatIocIndicator): the indicators
 *   of the app id, then of the certificate; empty when none
 */
GPtrArray *
moat_ioc_set_match_package (MoatIocSet *self,
                            const char *package_name,
                            const char *cert_sha256)
{
  g_autoptr(GPtrArray) out = new_match_array ();

  g_return_val_if_fail (MOAT_IS_IOC_SET (self), NULL);
  g_return_val_if_fail (package_name != NULL, NULL);

  append_matches (out, self->index[MOAT_IOC_KIND_APP_ID], package_name);
  if (cert_sha256 != NULL)
    {
      g_autofree char *cert = normalise_hash (cert_sha256);

      if (cert != NULL)
        append_matches (out, self->index[MOAT_IOC_KIND_APP_CERT], cert);
    }
  return g_steal_pointer (&out);
}

/**
 * moat_ioc_set_match_domain:
 * @host: a host name or IP address (case and a trailing dot do not matter)
 *
 * Returns: (transfer full) (element-type MoatIocIndicator): the domain
 *   indicators of @host and of each domain it is under, nearest first, or
 *   the IP indicators of an address; empty when none
 */
GPtrArray *
moat_ioc_set_match_domain (MoatIocSet *self,
                           const char *host)
{
  g_autoptr(GPtrArray) out = new_match_array ();
  g_autofree char *bare = NULL;
  g_autofree char *ip = NULL;
  g_autofree char *name = NULL;
  gsize len;

  g_return_val_if_fail (MOAT_IS_IOC_SET (self), NULL);
  g_return_val_if_fail (host != NULL, NULL);

  len = strlen (host);
  if (len >= 2 && host[0] == '[' && host[len - 1] == ']')
    bare = g_strndup (host + 1, len - 2);
  else
    bare = g_strdup (host);
  ip = normalise_ip (bare);
  if (ip == NULL)
    {
      name = normalise_domain (bare);
      ip = name != NULL ? normalise_ip (name) : NULL;
    }
  if (ip != NULL)
    {
      append_matches (out, self->index[MOAT_IOC_KIND_IP], ip);
      return g_steal_pointer (&out);
    }
  for (const char *p = name; p != NULL && *p != '\0';)
    {
      const char *dot = strchr (p, '.');

      append_matches (out, self->index[MOAT_IOC_KIND_DOMAIN], p);
      p = dot != NULL ? dot + 1 : NULL;
    }
  return g_steal_pointer (&out);
}

static GStrv
sorted_values (MoatIocSet  *self,
               MoatIocKind  kind)
{
  g_autofree const char **keys = NULL;
  guint n = 0;
  GStrv out;

  keys = (const char **) g_hash_table_get_keys_as_array (self->index[kind], &n);
  out = g_new0 (char *, n + 1);
  for (guint i = 0; i < n; i++)
    out[i] = g_strdup (keys[i]);
  qsort (out, n, sizeof (char *), compare_strings);
  return out;
}

/**
 * moat_ioc_set_get_domains:
 *
 * Returns: (transfer full): every domain indicator once, sorted (what the
 *   proxy blocks as category `c2`; addresses are apart, see
 *   moat_ioc_set_get_addresses())
 */
GStrv
moat_ioc_set_get_domains (MoatIocSet *self)
{
  g_return_val_if_fail (MOAT_IS_IOC_SET (self), NULL);

  return sorted_values (self, MOAT_IOC_KIND_DOMAIN);
}

/**
 * moat_ioc_set_get_addresses:
 *
 * Returns: (transfer full): every IP address indicator once, in canonical
 *   form, sorted; bundles give C2 servers as addresses too (Amnesty's
 *   NoviSpy bundle gives only addresses)
 */
GStrv
moat_ioc_set_get_addresses (MoatIocSet *self)
{
  g_return_val_if_fail (MOAT_IS_IOC_SET (self), NULL);

  return sorted_values (self, MOAT_IOC_KIND_IP);
}

/* The phone check */

static MoatPostureFinding *
ioc_finding (MoatPostureResult  result,
             const char        *summary,
             JsonBuilder       *evidence)
{
  MoatPostureFinding *f = g_new0 (MoatPostureFinding, 1);
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = json_builder_get_root (evidence);

  f->check = g_strdup ("ioc");
  f->result = result;
  f->threat = g_strdup (result == MOAT_POSTURE_THREAT ? "app.ioc_match" : NULL);
  f->severity = result == MOAT_POSTURE_THREAT ? MOAT_SEVERITY_CRITICAL : MOAT_SEVERITY_INFO;
  f->summary = g_strdup (summary);
  f->command = g_strdup ("pm list packages -f -i -U");
  json_generator_set_root (generator, root);
  f->evidence = json_generator_to_data (generator, NULL);
  return f;
}

/**
 * moat_android_check_iocs:
 *
 * Returns: (transfer full) (element-type MoatPostureFinding): one finding,
 *   check "ioc": a critical `app.ioc_match` naming each app an indicator
 *   names, OK when none does or no app indicator is loaded, unknown when
 *   @packages is %NULL. The evidence is {"indicators": app indicators
 *   loaded, "sources": [names], "packages": apps compared, "matches":
 *   [{"package", "malware", "source", "kind", "indicator"}]}.
 */
GPtrArray *
moat_android_check_iocs (const MoatIocSet *set,
                         GPtrArray        *packages)
{
  MoatIocSet *self = (MoatIocSet *) set;
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) moat_posture_finding_free);
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(GString) list = g_string_new (NULL);
  g_autofree char *summary = NULL;
  guint n_indicators, n_matched = 0;

  g_return_val_if_fail (MOAT_IS_IOC_SET (self), out);

  n_indicators = moat_ioc_set_get_count (self, MOAT_IOC_KIND_APP_ID) +
                 moat_ioc_set_get_count (self, MOAT_IOC_KIND_APP_CERT);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "indicators");
  json_builder_add_int_value (b, n_indicators);
  json_builder_set_member_name (b, "sources");
  json_builder_begin_array (b);
  for (guint i = 0; i < self->sources->len; i++)
    json_builder_add_string_value (b, ((MoatIocSource *) g_ptr_array_index (self->sources,
                                                                            i))->name);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "packages");
  if (packages != NULL)
    json_builder_add_int_value (b, packages->len);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "matches");
  json_builder_begin_array (b);
  for (guint i = 0; packages != NULL && n_indicators > 0 && i < packages->len; i++)
    {
      const MoatAndroidPackage *p = g_ptr_array_index (packages, i);
      g_autoptr(GPtrArray) matches = NULL;

      if (p == NULL || p->name == NULL)
        continue;
      matches = moat_ioc_set_match_package (self, p->name, NULL);
      for (guint m = 0; m < matches->len; m++)
        {
          const MoatIocIndicator *ind = g_ptr_array_index (matches, m);

          json_builder_begin_object (b);
          json_builder_set_member_name (b, "package");
          json_builder_add_string_value (b, p->name);
          json_builder_set_member_name (b, "malware");
          if (ind->malware != NULL)
            json_builder_add_string_value (b, ind->malware);
          else
            json_builder_add_null_value (b);
          json_builder_set_member_name (b, "source");
          json_builder_add_string_value (b, ind->source);
          json_builder_set_member_name (b, "kind");
          json_builder_add_string_value (b, moat_ioc_kind_to_string (ind->kind));
          json_builder_set_member_name (b, "indicator");
          json_builder_add_string_value (b, ind->value);
          json_builder_end_object (b);
        }
      if (matches->len > 0)
        {
          const MoatIocIndicator *first = g_ptr_array_index (matches, 0);

          if (n_matched++ > 0)
            g_string_append (list, ", ");
          /* TRANSLATORS: an app and the malware (or the indicator file)
           * naming it, in a list: "com.spy.mobile (SpyMobile)" */
          g_string_append_printf (list, _("%s (%s)"), p->name,
                                  first->malware != NULL ? first->malware : first->source);
        }
    }
  json_builder_end_array (b);
  json_builder_end_object (b);

  if (n_matched > 0)
    {
      summary = g_strdup_printf (ngettext ("%u app is a known malicious app: %s.",
                                           "%u apps are known malicious apps: %s.", n_matched),
                                 n_matched, list->str);
      g_ptr_array_add (out, ioc_finding (MOAT_POSTURE_THREAT, summary, b));
    }
  else if (n_indicators == 0)
    g_ptr_array_add (out, ioc_finding (MOAT_POSTURE_OK,
                                       _("No indicators of malicious apps are loaded, so "
                                         "no app was compared with any."), b));
  else if (packages == NULL)
    g_ptr_array_add (out, ioc_finding (MOAT_POSTURE_UNKNOWN,
                                       _("The phone did not list its apps."), b));
  else
    g_ptr_array_add (out, ioc_finding (MOAT_POSTURE_OK,
                                       _("No app is a known malicious app."), b));
  return out;
}
