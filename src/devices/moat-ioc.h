/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/*
 * Indicators of compromise from STIX 2.1 bundles shaped as Amnesty's Mobile
 * Verification Toolkit (MVT) publishes and reads them: `indicator` objects
 * whose `pattern` compares one observable to a string, each linked to the
 * `malware` it indicates by a `relationship` (source_ref the indicator,
 * target_ref the malware) or listed in a `report`'s object_refs. A bundle
 * is outside input: it is checked in full before anything of it is added.
 */

/**
 * MoatIocKind:
 * @MOAT_IOC_KIND_APP_ID: an app's package name or bundle id (`app:id`)
 * @MOAT_IOC_KIND_APP_CERT: an app's signing certificate hash, MD5, SHA-1 or
 *   SHA-256 (`app:cert.md5`, `app:cert.sha1`, `app:cert.sha256`)
 * @MOAT_IOC_KIND_DOMAIN: a domain name (`domain-name:value`); a host matches
 *   it when it is that domain or under it
 * @MOAT_IOC_KIND_IP: an IP address (`ipv4-addr:value`, `ipv6-addr:value`)
 * @MOAT_IOC_KIND_URL: a URL (`url:value`)
 * @MOAT_IOC_KIND_EMAIL: an email address (`email-addr:value`)
 * @MOAT_IOC_KIND_PROCESS: a process name (`process:name`)
 * @MOAT_IOC_KIND_FILE_NAME: a file name (`file:name`)
 * @MOAT_IOC_KIND_FILE_PATH: a file path (`file:path`)
 * @MOAT_IOC_KIND_FILE_HASH: a file hash, MD5, SHA-1 or SHA-256
 *   (`file:hashes.md5`, `file:hashes.'SHA-256'` ...)
 * @MOAT_IOC_KIND_ANDROID_PROPERTY: an Android system property name
 *   (`android-property:name`)
 * @MOAT_IOC_KIND_IOS_PROFILE: an iOS configuration profile id
 *   (`configuration-profile:id`)
 */
typedef enum {
  MOAT_IOC_KIND_APP_ID,
  MOAT_IOC_KIND_APP_CERT,
  MOAT_IOC_KIND_DOMAIN,
  MOAT_IOC_KIND_IP,
  MOAT_IOC_KIND_URL,
  MOAT_IOC_KIND_EMAIL,
  MOAT_IOC_KIND_PROCESS,
  MOAT_IOC_KIND_FILE_NAME,
  MOAT_IOC_KIND_FILE_PATH,
  MOAT_IOC_KIND_FILE_HASH,
  MOAT_IOC_KIND_ANDROID_PROPERTY,
  MOAT_IOC_KIND_IOS_PROFILE,
} MoatIocKind;

#define MOAT_IOC_KIND_LAST (MOAT_IOC_KIND_IOS_PROFILE + 1)

/* "app-id", "app-cert", "domain", "ip", "url", "email", "process",
 * "file-name", "file-path", "file-hash", "android-property", "ios-profile". */
const char *moat_ioc_kind_to_string (MoatIocKind kind);

/* What one bundle may hold. A bundle over a limit is refused whole. */
#define MOAT_IOC_MAX_BUNDLE_SIZE (64 * 1024 * 1024)
#define MOAT_IOC_MAX_OBJECTS 500000
#define MOAT_IOC_MAX_DEPTH 64          /* JSON nesting */
#define MOAT_IOC_MAX_STRING 4096       /* ids, names, types, refs (bytes) */
#define MOAT_IOC_MAX_PATTERN 65536     /* one indicator's pattern (bytes) */
#define MOAT_IOC_MAX_COMPARISONS 1024  /* comparisons in one pattern */
#define MOAT_IOC_MAX_SOURCE_NAME 256

/**
 * MoatIocIndicator:
 * @kind: what it is
 * @value: the normalised value: domains and email addresses in lower case
 *   (ASCII only: an IDN stays as given) without a trailing dot, hashes in
 *   lower-case hex without colons, everything else exactly as given
 * @malware: (nullable): the name of the malware (or report) it indicates;
 *   %NULL when the bundle ties it to none
 * @source: the name of the bundle it came from
 *
 * One indicator; refcounted and immutable.
 */
typedef struct {
  MoatIocKind  kind;
  char        *value;
  char        *malware;
  char        *source;
} MoatIocIndicator;

GType             moat_ioc_indicator_get_type (void) G_GNUC_CONST;
MoatIocIndicator *moat_ioc_indicator_ref      (MoatIocIndicator *indicator);
void              moat_ioc_indicator_unref    (MoatIocIndicator *indicator);

/**
 * MoatIocSource:
 * @name: the name it was loaded under (for a file, its base name)
 * @malware: the names of the malware and reports it describes, in the
 *   bundle's order, each once
 * @n_indicators: the indicators kept (each kind, value and malware once)
 * @n_skipped: the comparisons not kept: unsupported observables or
 *   operators, pattern types other than STIX, values that cannot be what
 *   their kind says (a hash that is not hex)
 * @counts: indicators kept per #MoatIocKind
 *
 * One loaded bundle; refcounted and immutable.
 */
typedef struct {
  char  *name;
  GStrv  malware;
  guint  n_indicators;
  guint  n_skipped;
  guint  counts[MOAT_IOC_KIND_LAST];
} MoatIocSource;

GType          moat_ioc_source_get_type (void) G_GNUC_CONST;
MoatIocSource *moat_ioc_source_ref      (MoatIocSource *source);
void           moat_ioc_source_unref    (MoatIocSource *source);

#define MOAT_TYPE_IOC_SET (moat_ioc_set_get_type ())
G_DECLARE_FINAL_TYPE (MoatIocSet, moat_ioc_set, MOAT, IOC_SET, GObject)

/*
 * A set is not locked: use it from one thread at a time. To import in a
 * worker, load into a new set there and moat_ioc_set_merge() it into the
 * live one on its own thread.
 */
MoatIocSet *moat_ioc_set_new            (void);
gboolean    moat_ioc_set_load_bytes     (MoatIocSet   *self,
                                         GBytes       *bytes,
                                         const char   *source_name,
                                         GError      **error);
gboolean    moat_ioc_set_load_file      (MoatIocSet   *self,
                                         GFile        *file,
                                         GCancellable *cancellable,
                                         GError      **error);
void        moat_ioc_set_merge          (MoatIocSet   *self,
                                         MoatIocSet   *other);
gboolean    moat_ioc_set_remove_source  (MoatIocSet   *self,
                                         const char   *source_name);

gboolean    moat_ioc_set_is_empty       (MoatIocSet   *self);
guint       moat_ioc_set_get_count      (MoatIocSet   *self,
                                         MoatIocKind   kind);
guint       moat_ioc_set_get_n_skipped  (MoatIocSet   *self);
GPtrArray  *moat_ioc_set_get_sources    (MoatIocSet   *self);

GPtrArray  *moat_ioc_set_match_package  (MoatIocSet   *self,
                                         const char   *package_name,
                                         const char   *cert_sha256);
GPtrArray  *moat_ioc_set_match_domain   (MoatIocSet   *self,
                                         const char   *host);
GStrv       moat_ioc_set_get_domains    (MoatIocSet   *self);
GStrv       moat_ioc_set_get_addresses  (MoatIocSet   *self);

/*
 * The "ioc" check of an Android phone: its packages (MoatAndroidPackage, as
 * moat_android_parse_packages() returns them; %NULL when the phone did not
 * list them) against the set's app ids. Returns one MoatPostureFinding.
 */
GPtrArray  *moat_android_check_iocs     (const MoatIocSet *set,
                                         GPtrArray        *packages);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MoatIocIndicator, moat_ioc_indicator_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MoatIocSource, moat_ioc_source_unref)

G_END_DECLS
