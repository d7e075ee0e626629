/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-app"

#include "config.h"

#include "moat-debug.h"

#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define STALL_INTERVAL_MS 10
#define SMOOTH_FRAMES 300
#define SWEEP_FRAMES 600

typedef enum {
  SCROLL_SMOOTH,
  SCROLL_SWEEP,
  SCROLL_DONE,
} ScrollPhase;

static struct {
  gboolean  timing;
  gint64    main_time;         /* monotonic µs at moat_debug_init() */
  double    exec_to_main_ms;   /* from /proc/self/stat, 10 ms resolution */
  gboolean  first_frame_done;
  gboolean  first_row_done;
  gint64    last_tick;
  gint64    max_gap;           /* after the first frame */
  gint64    startup_max_gap;   /* before it: building the window */
  guint     gaps_over_50ms;
  guint     stall_source_id;

  gboolean     scroll_started;
  ScrollPhase  phase;
  guint        phase_frames;
  gint64       last_frame_time;
  GArray      *intervals;      /* of double, ms, current phase */
  double       sweep_step;
} debug;

static double
read_exec_to_now_ms (void)
{
  g_autofree char *stat = NULL;
  const char *p;
  unsigned long long start_ticks = 0;
  struct timespec boot;
  int field = 2;

  if (!g_file_get_contents ("/proc/self/stat", &stat, NULL, NULL))
    return -1;
  /* The command name may contain spaces: fields start after the last ')'. */
  p = strrchr (stat, ')');
  if (p == NULL)
    return -1;
  p++;
  while (*p != '\0' && field < 22)
    {
      if (*p == ' ')
        field++;
      p++;
    }
  start_ticks = g_ascii_strtoull (p, NULL, 10);
  clock_gettime (CLOCK_BOOTTIME, &boot);

  return (boot.tv_sec + boot.tv_nsec / 1e9 - (double) start_ticks / sysconf (_SC_CLK_TCK)) * 1000.0;
}

static gboolean
stall_tick_cb (gpointer user_data)
{
  gint64 now = g_get_monotonic_time ();

  if (debug.last_tick == 0)
    {
      /* Until here the loop did not run at all: GTK's start-up (display,
       * GL, theme) and the application's startup(). Not a stall: the window
       * does not exist yet. Reported so that launch time can be split. */
      g_printerr ("MOAT_TIMING loop-start-since-main-ms=%.1f\n",
                  (now - debug.main_time) / 1000.0);
    }
  else
    {
      gint64 gap = now - debug.last_tick;

      if (gap > 40 * 1000 + STALL_INTERVAL_MS * 1000)
        g_printerr ("MOAT_TIMING stall gap-ms=%.1f ended-at-ms=%.1f\n",
                    gap / 1000.0, (now - debug.main_time) / 1000.0);

      if (!debug.first_frame_done)
        {
          debug.startup_max_gap = MAX (debug.startup_max_gap, gap);
        }
      else
        {
          debug.max_gap = MAX (debug.max_gap, gap);
          if (gap > 50 * 1000 + STALL_INTERVAL_MS * 1000)
            debug.gaps_over_50ms++;
        }
    }
  debug.last_tick = now;

  return G_SOURCE_CONTINUE;
}

void
moat_debug_init (void)
{
  debug.main_time = g_get_monotonic_time ();
  debug.timing = g_strcmp0 (g_getenv ("MOAT_DEBUG_TIMING"), "1") == 0;
  if (!debug.timing)
    return;

  debug.exec_to_main_ms = read_exec_to_now_ms ();
  g_printerr ("MOAT_TIMING main-monotonic-us=%" G_GINT64_FORMAT " exec-to-main-ms=%.0f\n",
              debug.main_time, debug.exec_to_main_ms);
  debug.stall_source_id = g_timeout_add_full (G_PRIORITY_HIGH, STALL_INTERVAL_MS,
                                              stall_tick_cb, NULL, NULL);
}

gboolean
moat_debug_timing_enabled (void)
{
  return debug.timing;
}

static void
print_since_main (const char *what)
{
  gint64 now = g_get_monotonic_time ();

  g_printerr ("MOAT_TIMING %s-monotonic-us=%" G_GINT64_FORMAT " %s-since-main-ms=%.1f\n",
              what, now, what, (now - debug.main_time) / 1000.0);
}

static void
on_frame_clock_after_paint_cb (GdkFrameClock *clock,
                               gpointer       user_data)
{
  if (debug.first_frame_done)
    return;

  debug.first_frame_done = TRUE;
  print_since_main ("first-frame");
  g_signal_handlers_disconnect_by_func (clock, on_frame_clock_after_paint_cb, user_data);
}

static void
on_window_realize_cb (GtkWidget *widget,
                      gpointer   user_data)
{
  GdkFrameClock *clock = gtk_widget_get_frame_clock (widget);

  if (clock != NULL)
    g_signal_connect (clock, "after-paint", G_CALLBACK (on_frame_clock_after_paint_cb), NULL);
}

void
moat_debug_watch_window (GtkWindow *window)
{
  if (!debug.timing || debug.first_frame_done)
    return;

  if (gtk_widget_get_realized (GTK_WIDGET (window)))
    on_window_realize_cb (GTK_WIDGET (window), NULL);
  else
    g_signal_connect (window, "realize", G_CALLBACK (on_window_realize_cb), NULL);
}

void
moat_debug_first_row_shown (void)
{
  if (!debug.timing || debug.first_row_done)
    return;

  debug.first_row_done = TRUE;
  print_since_main ("first-row");
}

static int
compare_doubles (gconstpointer a,
                 gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

static void
print_intervals (const char *phase)
{
  g_autoptr(GArray) sorted = NULL;
  guint dropped = 0;
  double median, p99, max, sum = 0;

  if (debug.intervals->len == 0)
    return;

  sorted = g_array_copy (debug.intervals);
  g_array_sort (sorted, compare_doubles);
  for (guint i = 0; i < sorted->len; i++)
    {
      double ms = g_array_index (sorted, double, i);

      sum += ms;
      /* A frame interval of more than 1.5 refresh periods (60 Hz) missed at least one frame. */
      if (ms > 1.5 * 1000.0 / 60.0)
        dropped += (guint) (ms / (1000.0 / 60.0) + 0.5) - 1;
    }
  median = g_array_index (sorted, double, sorted->len / 2);
  p99 = g_array_index (sorted, double, MIN (sorted->len - 1, (sorted->len * 99) / 100));
  max = g_array_index (sorted, double, sorted->len - 1);

  g_printerr ("MOAT_TIMING scroll-%s frames=%u median-ms=%.2f p99-ms=%.2f max-ms=%.2f "
              "mean-fps=%.1f dropped=%u\n",
              phase, sorted->len, median, p99, max, 1000.0 * sorted->len / sum, dropped);
}

static gboolean
scroll_tick_cb (GtkWidget     *widget,
                GdkFrameClock *clock,
                gpointer       user_data)
{
  GtkAdjustment *adjustment = gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (widget));
  /* The clock's frame time is predicted and snapped to the refresh rate;
   * the wall clock shows what a person sees. */
  gint64 frame_time = g_get_monotonic_time ();
  double upper = gtk_adjustment_get_upper (adjustment) - gtk_adjustment_get_page_size (adjustment);
  double step;

  if (debug.last_frame_time != 0)
    {
      double ms = (frame_time - debug.last_frame_time) / 1000.0;

      g_array_append_val (debug.intervals, ms);
    }
  debug.last_frame_time = frame_time;
  debug.phase_frames++;

  if (debug.phase == SCROLL_SMOOTH)
    {
      const char *env = g_getenv ("MOAT_DEBUG_SCROLL_STEP");

      step = env != NULL ? g_ascii_strtod (env, NULL) : 30.0;
      if (debug.phase_frames >= SMOOTH_FRAMES)
        {
          print_intervals ("smooth");
          g_array_set_size (debug.intervals, 0);
          debug.phase = SCROLL_SWEEP;
          debug.phase_frames = 0;
          debug.last_frame_time = 0;
          debug.sweep_step = upper / SWEEP_FRAMES;
          g_printerr ("MOAT_TIMING scroll-sweep-upper-px=%.0f step-px=%.0f\n",
                      upper, debug.sweep_step);
          gtk_adjustment_set_value (adjustment, 0);
          return G_SOURCE_CONTINUE;
        }
    }
  else
    {
      /* Recompute from the current upper: GtkListView refines its estimate. */
      step = MAX (debug.sweep_step, upper / SWEEP_FRAMES);
      if (debug.phase_frames >= SWEEP_FRAMES || gtk_adjustment_get_value (adjustment) >= upper)
        {
          print_intervals ("sweep");
          g_printerr ("MOAT_TIMING scroll-done final-value-px=%.0f upper-px=%.0f\n",
                      gtk_adjustment_get_value (adjustment), upper);
          debug.phase = SCROLL_DONE;
          g_application_quit (g_application_get_default ());
          return G_SOURCE_REMOVE;
        }
    }

  gtk_adjustment_set_value (adjustment, MIN (gtk_adjustment_get_value (adjustment) + step, upper));
  return G_SOURCE_CONTINUE;
}

static gboolean
start_scroll_cb (gpointer user_data)
{
  GtkWidget *scrolled_window = user_data;

  debug.intervals = g_array_new (FALSE, FALSE, sizeof (double));
  debug.phase = SCROLL_SMOOTH;
  gtk_widget_add_tick_callback (scrolled_window, scroll_tick_cb, NULL, NULL);
  g_object_unref (scrolled_window);

  return G_SOURCE_REMOVE;
}

void
moat_debug_start_scroll (GtkScrolledWindow *scrolled_window)
{
  if (debug.scroll_started || g_strcmp0 (g_getenv ("MOAT_DEBUG_SCROLL"), "1") != 0)
    return;

  debug.scroll_started = TRUE;
  /* Give the first page a moment to arrive, as a user would. */
  g_timeout_add (500, start_scroll_cb, g_object_ref (scrolled_window));
}

void
moat_debug_shutdown (void)
{
  if (!debug.timing)
    return;

  g_clear_handle_id (&debug.stall_source_id, g_source_remove);
  g_printerr ("MOAT_TIMING startup-max-stall-ms=%.1f\n",
              MAX (debug.startup_max_gap / 1000.0 - STALL_INTERVAL_MS, 0));
  g_printerr ("MOAT_TIMING max-stall-ms=%.1f max-gap-ms=%.1f stalls-over-50ms=%u\n",
              MAX (debug.max_gap / 1000.0 - STALL_INTERVAL_MS, 0), debug.max_gap / 1000.0,
              debug.gaps_over_50ms);
  g_clear_pointer (&debug.intervals, g_array_unref);
}
