/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-devices"

#include "config.h"

#include "moat-posture-advice.h"

#include <glib/gi18n.h>

typedef struct {
  const char *threat;
  const char *why;
  const char *fix;
  const char *screen;
} Advice;

/* Steps name the screens as stock Android and Samsung's One UI call them;
 * makers move things, so the "Open on Phone" action goes straight there. */
static const Advice android_advice[] = {
  { "os.outdated_patch",
    N_("Each monthly patch fixes flaws that attackers already use. An old patch leaves "
       "them open."),
    N_("Open Settings › System › Software update (Samsung: Software update).\n"
       "Download and install every update offered, then restart the phone.\n"
       "If no update is offered, the maker no longer supports this phone: plan to "
       "replace it."),
    "security" },
  { "os.unsupported_version",
    N_("This Android version no longer gets security fixes, so new flaws stay open for "
       "good."),
    N_("Open Settings › System › Software update and install any system upgrade.\n"
       "If none is offered, the phone cannot be made safe: replace it, or keep work "
       "data off it."),
    "security" },
  { "os.verified_boot",
    N_("Without verified boot, nothing checks that the system is the maker's: it may "
       "have been changed to spy."),
    N_("Verified boot only comes back with the maker's system and a locked bootloader.\n"
       "Back up the phone, then ask the helpdesk to reinstall the maker's firmware and "
       "lock the bootloader."),
    "" },
  { "os.unlocked_bootloader",
    N_("Anyone who holds the phone for a few minutes can replace its system, and the "
       "phone will not notice."),
    N_("Back up the phone: locking the bootloader erases it.\n"
       "Ask the helpdesk to reinstall the maker's firmware and lock the bootloader "
       "(fastboot flashing lock)."),
    "" },
  { "os.unencrypted",
    N_("A lost or stolen phone gives up everything on it without its screen lock."),
    N_("Set a PIN or password: Settings › Security › Screen lock.\n"
       "Then turn on encryption under Settings › Security › Encryption, with the phone "
       "charging."),
    "security" },
  { "os.rooted",
    N_("On a rooted phone any app given root can read every other app's data and hide "
       "from you."),
    N_("Remove the root manager app (such as Magisk) and its su binary.\n"
       "The sure way back is to reinstall the maker's firmware: back up the phone first."),
    "apps" },
  { "os.dev_options",
    N_("Developer options and USB debugging let a computer read and change the phone "
       "over a cable."),
    N_("When the helpdesk is done: Settings › System › Developer options.\n"
       "Turn off USB debugging and Wireless debugging, then turn Developer options off "
       "at the top."),
    "developer" },
  { "os.unknown_sources",
    N_("Apps allowed to install other apps are how most Android spyware gets on a "
       "phone."),
    N_("Open Settings › Apps › Special app access › Install unknown apps.\n"
       "Turn it off for every app listed here."),
    "apps" },
  { "os.verifier_off",
    N_("Play Protect checks apps for known malware, including apps installed from "
       "outside the store."),
    N_("Open the Play Store, tap your profile picture, then Play Protect.\n"
       "Open its settings and turn on \"Scan apps with Play Protect\"."),
    "security" },
  { "os.global_proxy",
    N_("A global proxy someone else set sends all the phone's web traffic through a "
       "server that can read and change it."),
    N_("If you did not set it, a profile or app did: check the apps listed as device "
       "administrators.\n"
       "Ask the helpdesk to clear it (adb shell settings put global http_proxy :0), or "
       "reset network settings under Settings › System › Reset options."),
    "wifi" },
  { "os.no_screen_lock",
    N_("Without a screen lock anyone who picks the phone up can read your mail and "
       "messages and install spyware."),
    N_("Open Settings › Security › Screen lock.\n"
       "Choose a PIN of six digits or more, or a password."),
    "lock" },
  { "os.config_profile",
    N_("A configuration profile can change the phone's network, VPN and certificates."),
    N_("Review it in Settings and remove it if you do not know it."),
    "security" },
  { "app.accessibility_service",
    N_("An accessibility service reads everything on screen and can tap and type for "
       "you: keyloggers and stalkerware use it."),
    N_("Open Settings › Accessibility › Installed apps (Samsung: Installed services).\n"
       "Turn off every service you did not turn on yourself.\n"
       "Then remove the app, or stop and disable it from Moat."),
    "accessibility" },
  { "app.device_admin",
    N_("A device administrator can lock or wipe the phone and resists being "
       "uninstalled."),
    N_("Open Settings › Security › Device admin apps.\n"
       "Deactivate every app you do not know, then uninstall it."),
    "security" },
  { "app.sideloaded",
    N_("Apps from outside a store were not checked by anyone, and most phone spyware "
       "arrives that way."),
    N_("Open Settings › Apps and look at each app listed here.\n"
       "Uninstall any you do not know or no longer need."),
    "apps" },
  { "app.dangerous_permissions",
    N_("Together these permissions let an app read messages, record sound and follow "
       "the phone: what stalkerware asks for."),
    N_("Open Settings › Apps › the app › Permissions.\n"
       "Deny what it does not need, or uninstall the app if you do not know it."),
    "apps" },
  { "app.ioc_match",
    N_("This app is named in published indicators of a known spyware or stalkerware "
       "campaign."),
    N_("Do not open the app. Stop and disable it from Moat now.\n"
       "If you may be targeted, talk to the helpdesk or a support organisation before "
       "uninstalling it: removing it can alert whoever installed it.\n"
       "Then uninstall it and change the passwords used on this phone."),
    "apps" },
};

static const Advice ios_advice[] = {
  { "os.outdated_patch",
    N_("Each iOS update fixes flaws that attackers already use."),
    N_("Open Settings › General › Software Update and install the update."),
    "" },
  { "os.unsupported_version",
    N_("This iOS version no longer gets security fixes."),
    N_("Open Settings › General › Software Update and install the newest iOS.\n"
       "If this iPhone cannot run it, plan to replace it."),
    "" },
  { "os.no_screen_lock",
    N_("Without a passcode the iPhone's data is not protected by encryption, and "
       "anyone can open it."),
    N_("Open Settings › Face ID & Passcode (or Touch ID & Passcode) and turn the "
       "passcode on."),
    "" },
  { "os.rooted",
    N_("A jailbroken iPhone runs code Apple did not sign, and its apps can read each "
       "other's data."),
    N_("Back up the iPhone, then restore it with Finder or iTunes to remove the "
       "jailbreak."),
    "" },
  { "os.config_profile",
    N_("A configuration profile can change the iPhone's network, VPN and "
       "certificates."),
    N_("Open Settings › General › VPN & Device Management.\n"
       "Remove every profile you do not know."),
    "" },
  { "app.sideloaded",
    N_("Apps signed by a company or developer instead of the App Store were not "
       "reviewed by Apple."),
    N_("Open Settings › General › VPN & Device Management and look at the developer "
       "apps.\n"
       "Delete the apps you do not know."),
    "" },
  { "app.ioc_match",
    N_("This app is named in published indicators of a known spyware campaign."),
    N_("Do not open the app. If you may be targeted, talk to the helpdesk or a "
       "support organisation first.\n"
       "Then delete it and change the passwords used on this iPhone."),
    "" },
};

gboolean
moat_posture_advice_lookup (const char        *platform,
                            const char        *threat,
                            MoatPostureAdvice *advice)
{
  gboolean ios = g_strcmp0 (platform, "ios") == 0;
  const Advice *table = ios ? ios_advice : android_advice;
  gsize n = ios ? G_N_ELEMENTS (ios_advice) : G_N_ELEMENTS (android_advice);

  g_return_val_if_fail (advice != NULL, FALSE);

  advice->why = advice->fix = advice->screen = "";
  if (threat == NULL)
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if (g_str_equal (table[i].threat, threat))
      {
        advice->why = _(table[i].why);
        advice->fix = _(table[i].fix);
        advice->screen = table[i].screen;
        return TRUE;
      }
  return FALSE;
}

const char *
moat_android_settings_action (const char *screen)
{
  static const struct {
    const char *screen;
    const char *action;
  } screens[] = {
    { "security", "android.settings.SECURITY_SETTINGS" },
    { "developer", "android.settings.APPLICATION_DEVELOPMENT_SETTINGS" },
    { "apps", "android.settings.MANAGE_APPLICATIONS_SETTINGS" },
    { "vpn", "android.settings.VPN_SETTINGS" },
    { "wifi", "android.settings.WIFI_SETTINGS" },
    { "accessibility", "android.settings.ACCESSIBILITY_SETTINGS" },
    { "lock", "android.app.action.SET_NEW_PASSWORD" },
  };

  for (gsize i = 0; screen != NULL && i < G_N_ELEMENTS (screens); i++)
    if (g_str_equal (screens[i].screen, screen))
      return screens[i].action;
  return NULL;
}
