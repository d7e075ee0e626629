/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <gio/gio.h>

#include "moat-android-posture.h"
#include "moat-ios-source.h"

G_BEGIN_DECLS

/* The most apps Moat keeps from installation_proxy's answer. */
#define MOAT_IOS_MAX_APPS 20000

/**
 * MoatIosApp:
 * @bundle_id: CFBundleIdentifier
 * @name: (nullable): CFBundleDisplayName
 * @version: (nullable): CFBundleShortVersionString
 * @type: (nullable): ApplicationType ("System", "User", ...)
 * @signer: (nullable): SignerIdentity: "Apple iPhone OS Application
 *   Signing" for an app from the App Store, a certificate's name ("iPhone
 *   Distribution: ...", "Apple Development: ...") for one installed from
 *   elsewhere, absent for Apple's own
 * @path: (nullable): Path of its bundle on the phone
 */
typedef struct {
  char *bundle_id;
  char *name;
  char *version;
  char *type;
  char *signer;
  char *path;
} MoatIosApp;

void       moat_ios_app_free   (MoatIosApp *app);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MoatIosApp, moat_ios_app_free)

/*
 * usbmuxd's ListDevices reply ({DeviceList: [{Properties: {SerialNumber,
 * ConnectionType}}...]}) as #MoatIosDevice: an iPhone seen over USB and over
 * the network is listed once, as USB. Entries without a valid UDID are
 * skipped and counted in @out_skipped.
 */
GPtrArray *moat_ios_parse_device_list (GVariant  *answer,
                                       guint     *out_skipped,
                                       GError   **error);

/*
 * installation_proxy Browse's answer (an array of dicts): the apps whose
 * CFBundleIdentifier is a string; entries that are not are skipped and
 * counted in @out_skipped. G_IO_ERROR_INVALID_DATA if it is not an array
 * or has more than MOAT_IOS_MAX_APPS apps.
 */
GPtrArray *moat_ios_parse_apps (GVariant  *answer,
                                guint     *out_skipped,
                                GError   **error);

/*
 * The apps as MoatAndroidPackage entries, so what matches Android packages
 * (IOC bundles list iOS bundle ids the same way) matches them too: @name is
 * the bundle id, @path its Path, @installer "com.apple.AppStore" for an app
 * signed by the App Store and %NULL otherwise, @uid -1, @system for
 * ApplicationType System.
 */
GPtrArray *moat_ios_apps_to_packages (GPtrArray *apps);

/**
 * MoatIosSnapshot:
 * @udid: the iPhone's UDID
 * @answers: each query's parsed answer, %NULL where it failed
 * @errors: why each query failed, %NULL where it did not
 * @apps: (nullable): the apps parsed from the APPS answer
 *
 * Everything Moat read from one iPhone, kept with the reason of each part
 * it could not read.
 */
typedef struct {
  char      *udid;
  GVariant  *answers[MOAT_IOS_QUERY_LAST];
  GError    *errors[MOAT_IOS_QUERY_LAST];
  GPtrArray *apps;
} MoatIosSnapshot;

MoatIosSnapshot *moat_ios_snapshot_new        (const char      *udid);
void             moat_ios_snapshot_free       (MoatIosSnapshot *snapshot);
/* Sets @query's answer from the service's XML plist bytes, or its error. */
void             moat_ios_snapshot_set_answer (MoatIosSnapshot *snapshot,
                                               MoatIosQuery     query,
                                               GBytes          *answer,
                                               const GError    *error);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MoatIosSnapshot, moat_ios_snapshot_free)

/*
 * Asks @source every query for @udid in a worker thread. Only cancelling
 * fails it: each query that fails is kept in the snapshot's errors.
 */
void             moat_ios_source_collect_async  (MoatIosSource        *source,
                                                 const char           *udid,
                                                 GCancellable         *cancellable,
                                                 GAsyncReadyCallback   callback,
                                                 gpointer              user_data);
MoatIosSnapshot *moat_ios_source_collect_finish (MoatIosSource        *source,
                                                 GAsyncResult         *result,
                                                 GError              **error);
MoatIosSnapshot *moat_ios_source_collect_sync   (MoatIosSource        *source,
                                                 const char           *udid,
                                                 GCancellable         *cancellable,
                                                 GError              **error);

/*
 * The checks, one finding per check in this order, each with the service
 * call behind it as its command:
 *   ios-version     lockdownd GetValue ProductVersion: the major version
 *                   still gets security updates (see the table in the .c)
 *   passcode        lockdownd GetValue PasswordProtected
 *   activation      lockdownd GetValue ActivationState
 *   developer-mode  lockdownd GetValue com.apple.security.mac.amfi
 *   supervision     MCInstall GetCloudConfiguration IsSupervised (record)
 *   profiles        MCInstall GetProfileList: profiles on a phone no
 *                   organisation supervises
 *   vpn             what can be said about VPNs (never readable as such)
 *   jailbreak       installation_proxy Browse: jailbreak apps
 *   sideloaded-apps installation_proxy Browse: SignerIdentity not the App Store
 */
GPtrArray *moat_ios_check_posture (const MoatIosSnapshot *snapshot);

G_END_DECLS
