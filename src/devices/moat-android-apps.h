/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <gio/gio.h>

#include "moat-android-posture.h"

G_BEGIN_DECLS

/**
 * MoatAndroidPackage:
 * @name: the package name
 * @path: its APK's path on the phone
 * @installer: (nullable): the package that installed it (%NULL: none said,
 *   as for an APK installed with adb or a file manager)
 * @uid: its Linux uid, or -1
 * @system: it lives on a read-only system partition
 */
typedef struct {
  char     *name;
  char     *path;
  char     *installer;
  gint64    uid;
  gboolean  system;
} MoatAndroidPackage;

void       moat_android_package_free (MoatAndroidPackage *package);

/* `pm list packages -f -i -U`: "package:PATH=NAME  installer=X uid:N". */
GPtrArray *moat_android_parse_packages     (const char  *text,
                                            gsize        length,
                                            GError     **error);
/* `dumpsys device_policy`: the components of the enabled device admins. */
GStrv      moat_android_parse_device_admins (const char *text,
                                             gsize       length);
/* `appops query-op OP allow` (package names, or "No operations."). */
GStrv      moat_android_parse_package_list (const char  *text,
                                            gsize        length);

/**
 * MoatAndroidSnapshot:
 *
 * What the app and settings checks read from a phone; every string is the
 * trimmed output of its command, %NULL when the command failed. See
 * moat_android_posture_commands() for the commands.
 */
typedef struct {
  GPtrArray *packages;            /* MoatAndroidPackage */
  GStrv      device_admins;
  GStrv      install_allowed;     /* packages allowed to install unknown apps */
  char      *accessibility;       /* enabled_accessibility_services */
  char      *install_non_market;  /* install_non_market_apps (before Android 8) */
  char      *verifier;            /* package_verifier_enable */
  char      *http_proxy;
  char      *private_dns_mode;
  char      *always_on_vpn;
  gboolean   su_found;
  char      *credential_type;     /* from `dumpsys lock_settings`: None, Pin, ... */
  char      *password_type;       /* lockscreen.password_type, before Android 11 */
  GHashTable *granted;            /* package name -> GStrv of granted permissions,
                                   * for the apps not part of the system */
} MoatAndroidSnapshot;

void       moat_android_snapshot_clear (MoatAndroidSnapshot *snapshot);

/* `dumpsys lock_settings`: the user's "CredentialType" (None, Pattern, Pin,
 * Password), or %NULL when it does not say. Never reads the credential. */
char      *moat_android_parse_credential_type (const char *text,
                                               gsize       length);
/* `dumpsys package NAME`: the permissions granted to it (install and
 * runtime), or %NULL when the output is not a package dump. */
GStrv      moat_android_parse_granted_permissions (const char *text,
                                                   gsize       length);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MoatAndroidPackage, moat_android_package_free)

/*
 * The checks of apps and settings: screen lock, dangerous permission sets
 * (an app not part of the system granted at least three of: SMS, call log,
 * microphone, precise location, contacts, camera), unknown sources, Play
 * Protect, enabled
 * accessibility services and device admins of apps that are not part of
 * the system (the usual spyware footholds), a global HTTP proxy, sideloaded
 * apps, su on the path; private DNS and always-on VPN are reported for
 * the record. @moat_proxy (nullable) is the proxy address Moat set itself
 * while routing the phone, which is not a finding.
 */
GPtrArray *moat_android_check_apps (const MoatAndroidSnapshot *snapshot,
                                    const char                *moat_proxy);

G_END_DECLS
