/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * A strict, zero-copy HTTP/1.x message-head parser for the proxy (RFC 9110,
 * RFC 9112). It never allocates: every string in a parsed head points into
 * the caller's buffer, which must stay unchanged while the head is used.
 *
 * Strict means: CRLF line endings only (a bare LF is an error), no obs-fold,
 * no whitespace between a field name and its colon, tokens only in methods and
 * field names, no NUL/CR/LF or other control bytes (except HTAB) in values,
 * and every framing ambiguity that request smuggling relies on is an error:
 * Content-Length together with Transfer-Encoding, more than one or an invalid
 * Content-Length (signs, spaces, lists, leading "+", overflow), a
 * Transfer-Encoding whose last coding is not "chunked" or which names any
 * coding but "chunked", Connection naming Host or a framing field
 * (Content-Length, Transfer-Encoding), an absolute-form target whose authority
 * disagrees with Host, a missing Host in HTTP/1.1, userinfo in the target
 * authority or a fragment in the target.
 */

#define MOAT_HTTP_MAX_REQUEST_LINE  8192    /* longer: 414 */
#define MOAT_HTTP_MAX_HEAD          65536   /* longer: 431 */
#define MOAT_HTTP_MAX_FIELDS        100     /* more: 431 */

typedef enum {
  MOAT_HTTP_PARSE_OK,          /* a complete head was parsed */
  MOAT_HTTP_PARSE_INCOMPLETE,  /* need more bytes (no limit hit yet) */
  MOAT_HTTP_PARSE_ERROR,       /* see error_status and error_reason */
} MoatHttpParseResult;

typedef enum {
  MOAT_HTTP_METHOD_OTHER,      /* a valid token we do not know: forwarded as is */
  MOAT_HTTP_METHOD_GET,
  MOAT_HTTP_METHOD_HEAD,
  MOAT_HTTP_METHOD_POST,
  MOAT_HTTP_METHOD_PUT,
  MOAT_HTTP_METHOD_DELETE,
  MOAT_HTTP_METHOD_OPTIONS,
  MOAT_HTTP_METHOD_PATCH,
  MOAT_HTTP_METHOD_TRACE,
  MOAT_HTTP_METHOD_CONNECT,
} MoatHttpMethod;

typedef enum {
  MOAT_HTTP_TARGET_ORIGIN,     /* /path?query */
  MOAT_HTTP_TARGET_ABSOLUTE,   /* http://authority/path?query */
  MOAT_HTTP_TARGET_AUTHORITY,  /* host:port (CONNECT only) */
  MOAT_HTTP_TARGET_ASTERISK,   /* * (OPTIONS only) */
} MoatHttpTargetForm;

typedef enum {
  MOAT_HTTP_BODY_NONE,         /* no body (or a response that cannot have one) */
  MOAT_HTTP_BODY_LENGTH,       /* content_length bytes follow */
  MOAT_HTTP_BODY_CHUNKED,      /* Transfer-Encoding: chunked */
  MOAT_HTTP_BODY_UNTIL_CLOSE,  /* responses only: read until the server closes */
} MoatHttpBodyKind;

/* Well-known fields, recognised case-insensitively while parsing. */
typedef enum {
  MOAT_HTTP_FIELD_OTHER,
  MOAT_HTTP_FIELD_HOST,
  MOAT_HTTP_FIELD_CONNECTION,
  MOAT_HTTP_FIELD_PROXY_CONNECTION,
  MOAT_HTTP_FIELD_KEEP_ALIVE,
  MOAT_HTTP_FIELD_CONTENT_LENGTH,
  MOAT_HTTP_FIELD_TRANSFER_ENCODING,
  MOAT_HTTP_FIELD_TE,
  MOAT_HTTP_FIELD_TRAILER,
  MOAT_HTTP_FIELD_UPGRADE,
  MOAT_HTTP_FIELD_EXPECT,
  MOAT_HTTP_FIELD_PROXY_AUTHORIZATION,
  MOAT_HTTP_FIELD_PROXY_AUTHENTICATE,
  MOAT_HTTP_FIELD_VIA,
  MOAT_HTTP_FIELD_REFERER,
  MOAT_HTTP_FIELD_ORIGIN,
} MoatHttpField;

typedef struct {
  const char    *name;
  guint16        name_len;
  guint16        field;        /* MoatHttpField */
  guint32        value_len;
  const char    *value;        /* leading/trailing OWS already trimmed */
  gboolean       hop_by_hop;   /* drop when forwarding (RFC 9110 7.6.1), incl. those named in Connection */
} MoatHttpHeader;

typedef struct {
  /* request line */
  MoatHttpMethod       method;
  const char          *method_str;
  guint16              method_len;
  MoatHttpTargetForm   target_form;
  const char          *target;          /* as sent */
  guint32              target_len;
  guint8               version_minor;   /* HTTP/1.0 → 0, HTTP/1.1 → 1 */

  /* the target split up (absolute and authority forms; for origin form the
   * authority comes from Host) */
  const char          *scheme;          /* "http" only; NULL for other forms */
  guint16              scheme_len;
  const char          *authority;       /* host[:port] as sent (no userinfo) */
  guint16              authority_len;
  const char          *path;            /* origin-form part: "/..." (NULL for authority/asterisk);
                                         * "?query" for "http://host?query", "/" for "http://host" */
  guint32              path_len;
  guint16              port;            /* explicit or the default (80); CONNECT: required */

  /* fields */
  MoatHttpHeader       headers[MOAT_HTTP_MAX_FIELDS];
  guint                n_headers;
  const MoatHttpHeader *host;           /* the Host field, or NULL */

  /* framing and connection semantics */
  MoatHttpBodyKind     body;
  guint64              content_length;  /* when body == MOAT_HTTP_BODY_LENGTH */
  gboolean             keep_alive;      /* client wants the connection kept (1.1 default, 1.0 keep-alive) */
  gboolean             expect_continue; /* Expect: 100-continue */
  gboolean             has_upgrade;     /* Upgrade field present (the proxy answers 501) */

  gsize                head_len;        /* bytes of the head, including the final CRLF CRLF */

  /* when MOAT_HTTP_PARSE_ERROR */
  guint                error_status;    /* 400, 414, 431, 501, ... */
  const char          *error_reason;    /* short, static, untranslated, no CR/LF: for a log line or a header */
} MoatHttpRequest;

typedef struct {
  guint8               version_minor;
  guint                status;          /* 100..999 */
  const char          *reason;
  guint16              reason_len;

  MoatHttpHeader       headers[MOAT_HTTP_MAX_FIELDS];
  guint                n_headers;

  MoatHttpBodyKind     body;            /* accounts for HEAD, 1xx, 204, 304 and 2xx to CONNECT */
  guint64              content_length;
  gboolean             keep_alive;      /* the server will keep the connection */

  gsize                head_len;

  guint                error_status;    /* 502 when the upstream's response head is bad */
  const char          *error_reason;
} MoatHttpResponse;

/* Both parsers start from the beginning of @buf on every call. While a head
 * arrives, call again only when the newly read bytes contain a LF or the
 * buffer has reached MOAT_HTTP_MAX_REQUEST_LINE + 2 or MOAT_HTTP_MAX_HEAD
 * bytes (otherwise only a bad byte in an unfinished request line could be
 * reported a little sooner), since re-parsing on every read
 * lets a client that sends one byte at a time cost quadratic time (about
 * 1.3 s of CPU for one 62 KB head). */
MoatHttpParseResult moat_http_parse_request  (const char        *buf,
                                              gsize              len,
                                              MoatHttpRequest   *req);
MoatHttpParseResult moat_http_parse_response (const char        *buf,
                                              gsize              len,
                                              MoatHttpMethod     request_method,
                                              MoatHttpResponse  *resp);

/* The head to send upstream: origin-form request line (absolute form when
 * @absolute_form, for a parent proxy), every end-to-end field in order, the
 * hop-by-hop ones dropped, "Transfer-Encoding: chunked" when the body is
 * chunked, and @via_token appended to Via ("1.1 moat"). Appends to @out. */
void moat_http_request_write_upstream    (const MoatHttpRequest  *req,
                                          gboolean                absolute_form,
                                          const char             *via_token,
                                          GString                *out);
/* The head to send to the client: the status line as HTTP/1.1, end-to-end
 * fields, Via, and "Connection: close" when @close is set or
 * "Connection: keep-alive" for an HTTP/1.0 client that is kept. An
 * UNTIL_CLOSE body, or a CHUNKED one to an HTTP/1.0 client (which gets no
 * Transfer-Encoding: the proxy sends it the decoded data), forces close. */
void moat_http_response_write_downstream (const MoatHttpResponse *resp,
                                          guint8                  client_version_minor,
                                          gboolean                close,
                                          const char             *via_token,
                                          GString                *out);

/* Chunked transfer coding, validated and re-encoded canonically: chunk
 * extensions and trailer fields are dropped, sizes are re-written in lower-case
 * hex without leading zeros. Errors: a bare LF, a size that is not hex or
 * overflows 2^62, data not followed by CRLF, a control byte in an extension,
 * trailers longer than MOAT_HTTP_MAX_HEAD. */
typedef enum {
  MOAT_HTTP_CHUNK_MORE,        /* consumed what it could; feed more */
  MOAT_HTTP_CHUNK_DONE,        /* the last chunk and trailers were read */
  MOAT_HTTP_CHUNK_ERROR,
} MoatHttpChunkResult;

typedef struct {
  guint    state;              /* private */
  guint64  remaining;          /* private: data bytes left in this chunk */
  guint64  size;               /* private */
  guint    line_len;           /* private: bytes in the current size/trailer line */
  gsize    trailer_len;        /* private */
  const char *error_reason;
} MoatHttpChunkDecoder;

void                moat_http_chunk_decoder_init (MoatHttpChunkDecoder *dec);
/* Reads from @in (at most @in_len bytes), writes the re-encoded stream to @out
 * (at most @out_len bytes). *in_used and *out_used say how much of each was
 * used. Output never exceeds the input by more than the chunk framing it
 * rewrites, so an @out of @in_len + 32 bytes always lets all input be used. */
MoatHttpChunkResult moat_http_chunk_decoder_feed (MoatHttpChunkDecoder *dec,
                                                  const char           *in,
                                                  gsize                 in_len,
                                                  gsize                *in_used,
                                                  char                 *out,
                                                  gsize                 out_len,
                                                  gsize                *out_used);

const char *moat_http_status_reason (guint status);  /* "Bad Request", ... */

G_END_DECLS
