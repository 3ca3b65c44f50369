// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * screen: the interactive mode (see screen.h).  One loop: draw, wait for a
 * key until the next refresh is due (wgetch() with a timeout), then either
 * handle the key or take a new snapshot.  Prompts (filter, interval) are
 * edited inside that loop, so the table keeps refreshing meanwhile.
 * Everything is redrawn from the snapshot each time: after a resize
 * (KEY_RESIZE, ncurses has already updated LINES and COLS) there is no
 * layout to fix, only a redraw.
 */
#include <ctype.h>
#include <curses.h>
#include <errno.h>
#include <inttypes.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wchar.h>
#include <wctype.h>

#include "../escape.h"
#include "../objects.h"
#include "screen.h"

#define HEADER_ROWS	5		/* global figures */
#define MSG_ROW		HEADER_ROWS	/* messages and prompts */
#define TITLE_ROW	(MSG_ROW + 1)
#define FIRST_ROW	(TITLE_ROW + 1)
#define INTERVAL_MIN	0.1
#define INTERVAL_MAX	3600.0
#define KEY_ESC		27
#define KEY_CTRL(c)	((c) & 0x1f)
#define DETAIL_OBJECTS_MAX 8	/* objects listed in the details; more are counted */

enum view_mode { VIEW_LIST, VIEW_DETAILS, VIEW_HELP };
enum prompt { PROMPT_NONE, PROMPT_FILTER, PROMPT_INTERVAL };

struct screen {
	const struct shmtop_config *cfg;
	double interval_s;
	enum column sort;
	bool reverse;
	char filter[SEALSHM_NAME_MAX + 1];

	struct snapshot *snap;		/* the latest good one, or NULL */
	const struct segment **view;	/* snap's segments, filtered and sorted */
	int n_view;
	int sel;			/* selected row in view */
	int top;			/* first row shown */
	/* The selected segment, kept by identity across refreshes. */
	char sel_name[SEALSHM_NAME_MAX + 1];
	uint64_t sel_ino;

	enum view_mode mode;
	char det_name[SEALSHM_NAME_MAX + 1];	/* VIEW_DETAILS: which segment */
	uint64_t det_ino;
	int det_scroll;				/* first mapper line shown */

	enum prompt prompt;
	char input[SEALSHM_NAME_MAX + 1];
	size_t input_len;

	char msg[256];			/* shown on MSG_ROW until the next key */
	int err;			/* the last refresh's error, or 0 */
	uint64_t frames;
	uint64_t next_ms;		/* CLOCK_MONOTONIC time of the next refresh */
	bool quit;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* --- text ------------------------------------------------------------------------- */
/* @v with a unit when it does not fit @raw_max: base 1024 for bytes
 * ("4.0K", "12M"), 1000 for counts; at most 6 characters. */
static void scaled(uint64_t v, unsigned int base, uint64_t raw_max, char *buf, size_t len)
{
	static const char units[] = "KMGTPE";
	double d = (double)v;
	int u = -1;

	if (v <= raw_max) {
		snprintf(buf, len, "%" PRIu64, v);
		return;
	}
	while ((d >= 999.95 || u < 0) && u < 5) {
		d /= base;
		u++;
	}
	if (d < 9.95)
		snprintf(buf, len, "%.1f%c", d, units[u]);
	else
		snprintf(buf, len, "%.0f%c", d, units[u]);
}

static void human_bytes(uint64_t v, char *buf, size_t len)
{
	scaled(v, 1024, 999, buf, len);
}

/* "42s", "12m05", "23h59", "99d23h", "365d" */
static void human_age(uint64_t s, char *buf, size_t len)
{
	if (s < 60)
		snprintf(buf, len, "%" PRIu64 "s", s);
	else if (s < 3600)
		snprintf(buf, len, "%" PRIu64 "m%02" PRIu64, s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%" PRIu64 "h%02" PRIu64, s / 3600, s % 3600 / 60);
	else if (s < 100 * 86400)
		snprintf(buf, len, "%" PRIu64 "d%02" PRIu64 "h", s / 86400, s % 86400 / 3600);
	else
		snprintf(buf, len, "%" PRIu64 "d", s / 86400);
}

/* "1d 02:03:04" or "02:03:04" */
static void uptime_text(uint64_t ns, char *buf, size_t len)
{
	uint64_t s = ns / 1000000000u;

	if (s >= 86400)
		snprintf(buf, len, "%" PRIu64 "d %02" PRIu64 ":%02" PRIu64 ":%02" PRIu64, s / 86400,
			 s % 86400 / 3600, s % 3600 / 60, s % 60);
	else
		snprintf(buf, len, "%02" PRIu64 ":%02" PRIu64 ":%02" PRIu64, s / 3600,
			 s % 3600 / 60, s % 60);
}

static void local_time(int64_t ns, const char *fmt, char *buf, size_t len)
{
	time_t t = (time_t)(ns / 1000000000);
	struct tm tm;

	if (!localtime_r(&t, &tm) || !strftime(buf, len, fmt, &tm))
		snprintf(buf, len, "%" PRId64, ns);
}

/* Draw @s at (@y, @x), at most up to the right edge.  Characters are
 * decoded in the terminal's locale (main() takes LC_CTYPE from the
 * environment; ncursesw draws them): a UTF-8 name shows as itself under a
 * UTF-8 locale.  Whatever does not decode, or does not print, is a '?';
 * so is a character of no width (it joins the one before) unless a name
 * may hold it (escape.h): combining marks and variation selectors are
 * drawn, invisible and bidirectional controls are not. */
static void put(int y, int x, const char *s)
{
	mbstate_t st;

	if (y < 0 || y >= LINES || x >= COLS)
		return;
	memset(&st, 0, sizeof(st));
	move(y, x);
	while (*s && x < COLS) {
		wchar_t wc;
		size_t n = mbrtowc(&wc, s, MB_CUR_MAX, &st);
		int w;

		if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
			memset(&st, 0, sizeof(st));
			addch('?');
			x++;
			s++;
			continue;
		}
		w = wcwidth(wc);
		/* glibc's wchar_t is the code point (__STDC_ISO_10646__). */
		if (w < 0 || !iswprint((wint_t)wc) ||
		    (w == 0 && !shows_as_itself((uint32_t)wc))) {
			addch('?');
			x++;
		} else if (x + w > COLS) {
			break;
		} else {
			addnstr(s, (int)n);
			x += w;
		}
		s += n;
	}
}

__attribute__((format(printf, 3, 4)))
static void putf(int y, int x, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	put(y, x, buf);
}

__attribute__((format(printf, 2, 3)))
static void message(struct screen *sc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sc->msg, sizeof(sc->msg), fmt, ap);
	va_end(ap);
}

/* --- data ----------------------------------------------------------------------------- */
static void clamp_selection(struct screen *sc)
{
	int rows = LINES - FIRST_ROW;

	if (rows < 1)
		rows = 1;
	if (sc->sel >= sc->n_view)
		sc->sel = sc->n_view - 1;
	if (sc->sel < 0)
		sc->sel = 0;
	if (sc->top > sc->sel)
		sc->top = sc->sel;
	if (sc->sel >= sc->top + rows)
		sc->top = sc->sel - rows + 1;
	if (sc->top > sc->n_view - rows)
		sc->top = sc->n_view - rows;
	if (sc->top < 0)
		sc->top = 0;
	if (sc->n_view > 0) {
		snprintf(sc->sel_name, sizeof(sc->sel_name), "%s", sc->view[sc->sel]->info.name);
		sc->sel_ino = sc->view[sc->sel]->info.ino;
	}
}

/* Rebuild the view (filter, order) and find the selected segment again. */
static void rebuild_view(struct screen *sc)
{
	const struct segment **v = NULL;
	int n;

	free(sc->view);
	sc->view = NULL;
	sc->n_view = 0;
	if (!sc->snap)
		return;
	n = snapshot_view(sc->snap, sc->filter, sc->sort, sc->reverse, &v);
	if (n < 0) {
		message(sc, "Failed to sort segments: %s", strerror(-n));
		return;
	}
	sc->view = v;
	sc->n_view = n;
	for (int i = 0; i < n; i++)
		if (v[i]->info.ino == sc->sel_ino && !strcmp(v[i]->info.name, sc->sel_name)) {
			sc->sel = i;
			break;
		}
	clamp_selection(sc);
}

static void refresh_data(struct screen *sc)
{
	struct snapshot *s = NULL;
	int r;

	r = collect_snapshot(&sc->cfg->collect, sc->snap, &s);
	sc->frames++;
	if (r < 0) {
		/* Keep the last good snapshot on screen; try again later. */
		sc->err = r;
		return;
	}
	sc->err = 0;
	snapshot_free(sc->snap);
	sc->snap = s;
	rebuild_view(sc);
}

static void schedule(struct screen *sc, uint64_t from_ms)
{
	sc->next_ms = from_ms + (uint64_t)(sc->interval_s * 1000);
}

/* --- drawing ---------------------------------------------------------------------------- */
static void draw_header(struct screen *sc)
{
	const struct snapshot *s = sc->snap;
	const struct sealshm_registry_stats *st = &s->stats;
	char now[32], up[32], a[16], b[16], c[16], qn[48], qb[48];

	local_time(s->time_ns, "%H:%M:%S", now, sizeof(now));
	uptime_text(st->uptime_ns, up, sizeof(up));
	putf(0, 0, "shmtop - %s  trackerd %" PRIu32 "%s up %s  interval %.1fs  sort %s %s%s%s%s",
	     now, st->pid, st->flags & SEALSHM_REGISTRY_MANAGER ? " (manager)" : "", up,
	     sc->interval_s, columns[sc->sort].title,
	     columns[sc->sort].descending != sc->reverse ? "v" : "^",
	     sc->filter[0] ? "  filter '" : "", sc->filter, sc->filter[0] ? "'" : "");

	human_bytes(st->bytes, a, sizeof(a));
	human_bytes(st->resident, b, sizeof(b));
	snprintf(qn, sizeof(qn), "%" PRIu32 "/%" PRIu32, st->caller_names, st->max_names_per_uid);
	human_bytes(st->caller_bytes, c, sizeof(c));
	if (st->max_bytes_per_uid) {
		char m[16];

		human_bytes(st->max_bytes_per_uid, m, sizeof(m));
		snprintf(qb, sizeof(qb), "%s/%s", c, m);
	} else {
		snprintf(qb, sizeof(qb), "%s/unlimited", c);
	}
	putf(1, 0, "Names: %" PRIu64 " (yours %s)  Size: %s  Resident: %s  Your bytes: %s",
	     st->names, qn, a, b, qb);
	putf(2, 0, "Sessions: %" PRIu32 "  Connections: %" PRIu32 "/%" PRIu32
	     "  Requests: %" PRIu64 ", %.1f/s%s", st->sessions, st->clients, st->max_clients,
	     st->requests, s->requests_per_sec, s->rate_since_start ? " since start" : "");
	putf(3, 0, "Refused: enoent %" PRIu64 "  eacces %" PRIu64 "  eperm %" PRIu64
	     "  eexist %" PRIu64 "  edquot %" PRIu64 "  einval %" PRIu64 "  proto %" PRIu64
	     "  other %" PRIu64, st->refused[SEALSHM_REFUSED_ENOENT],
	     st->refused[SEALSHM_REFUSED_EACCES], st->refused[SEALSHM_REFUSED_EPERM],
	     st->refused[SEALSHM_REFUSED_EEXIST], st->refused[SEALSHM_REFUSED_EDQUOT],
	     st->refused[SEALSHM_REFUSED_EINVAL], st->refused[SEALSHM_REFUSED_PROTO],
	     st->refused[SEALSHM_REFUSED_OTHER]);
	if (s->mappers_scanned)
		putf(4, 0, "Mappers: %" PRIu32 " processes map segments; %" PRIu32
		     " processes scanned, %" PRIu32 " unreadable", s->n_mappers,
		     s->procs.scanned, s->procs.unreadable);
	else
		put(4, 0, "Mappers: not scanned (--no-mappers)");
}

static const char *prompt_label(enum prompt p)
{
	return p == PROMPT_FILTER ?
	       "Filter: names containing (Enter applies, empty clears, Esc cancels): " :
	       "Interval in seconds (Enter applies, Esc cancels): ";
}

static void draw_message(struct screen *sc)
{
	if (sc->prompt != PROMPT_NONE) {
		const char *label = prompt_label(sc->prompt);

		attron(A_BOLD);
		put(MSG_ROW, 0, label);
		attroff(A_BOLD);
		put(MSG_ROW, (int)strlen(label), sc->input);
		return;
	}
	if (sc->err) {
		attron(A_BOLD);
		putf(MSG_ROW, 0, "Failed to reach trackerd: %s; showing the last figures, "
		     "retrying every %.1fs", strerror(-sc->err), sc->interval_s);
		attroff(A_BOLD);
		return;
	}
	put(MSG_ROW, 0, sc->msg);
}

/* Column widths on screen; NAME takes what is left. */
static const int widths[COL_MAX] = {
	[COL_SIZE] = 6, [COL_RES] = 6, [COL_OWNER] = 8, [COL_MODE] = 4, [COL_LIFE] = 5,
	[COL_TRK] = 4, [COL_MAPS] = 4, [COL_ATTACH] = 6, [COL_SEALS] = 6, [COL_AGE] = 6,
	[COL_NAME] = 0,
};

static bool left_aligned(enum column c)
{
	return c == COL_OWNER || c == COL_LIFE || c == COL_SEALS || c == COL_NAME;
}

/* One table line from the cells' texts. */
static void table_line(int y, char cells[COL_MAX][SEALSHM_NAME_MAX + 1])
{
	char line[2048];
	size_t n = 0;

	for (int c = 0; c < COL_MAX && n < sizeof(line); c++) {
		if (c == COL_NAME)
			n += (size_t)snprintf(line + n, sizeof(line) - n, "%s", cells[c]);
		else if (left_aligned(c))
			n += (size_t)snprintf(line + n, sizeof(line) - n, "%-*.*s ", widths[c],
					      widths[c], cells[c]);
		else
			n += (size_t)snprintf(line + n, sizeof(line) - n, "%*s ", widths[c],
					      cells[c]);
	}
	put(y, 0, line);
}

static void segment_cells(const struct screen *sc, const struct segment *g,
			  char cells[COL_MAX][SEALSHM_NAME_MAX + 1])
{
	const size_t len = SEALSHM_NAME_MAX + 1;

	human_bytes(g->info.size, cells[COL_SIZE], len);
	human_bytes(g->info.resident, cells[COL_RES], len);
	snprintf(cells[COL_OWNER], len, "%s", g->owner);
	snprintf(cells[COL_MODE], len, "%04" PRIo32, g->info.mode);
	snprintf(cells[COL_LIFE], len, "%s", lifetime_name(&g->info));
	scaled(g->info.n_sessions, 1000, 9999, cells[COL_TRK], len);
	if (sc->snap->mappers_scanned)
		scaled(g->mappers.n, 1000, 9999, cells[COL_MAPS], len);
	else
		snprintf(cells[COL_MAPS], len, "-");
	scaled(g->info.n_attaches, 1000, 999999, cells[COL_ATTACH], len);
	seals_letters(g->info.seals, cells[COL_SEALS]);
	human_age(snapshot_age_s(sc->snap, g->info.ctime_ns), cells[COL_AGE], len);
	/* Escaped, then drawn by put(): a name never acts on the terminal,
	 * and a character that would show as '?' shows what it is. */
	escape_name(g->info.name, cells[COL_NAME], len);
}

static void draw_list(struct screen *sc)
{
	char cells[COL_MAX][SEALSHM_NAME_MAX + 1];
	int rows = LINES - FIRST_ROW;

	for (int c = 0; c < COL_MAX; c++)
		snprintf(cells[c], sizeof(cells[c]), "%s", columns[c].title);
	attron(A_REVERSE);
	move(TITLE_ROW, 0);
	hline(' ', COLS);
	table_line(TITLE_ROW, cells);
	attroff(A_REVERSE);

	clamp_selection(sc);
	for (int i = 0; i < rows && sc->top + i < sc->n_view; i++) {
		int idx = sc->top + i;

		segment_cells(sc, sc->view[idx], cells);
		if (idx == sc->sel) {
			attron(A_REVERSE);
			move(FIRST_ROW + i, 0);
			hline(' ', COLS);
		}
		table_line(FIRST_ROW + i, cells);
		if (idx == sc->sel)
			attroff(A_REVERSE);
	}
	if (sc->n_view == 0 && rows > 0)
		put(FIRST_ROW, 0, sc->filter[0] ? "(no segment name contains the filter)" :
						  "(no segments)");
}

/* The details' lines of the shared objects in the segment; returns the
 * next row. */
static int draw_objects(struct screen *sc, int y)
{
	struct sealshm_opts opts = { .sz = sizeof(opts), .socket = sc->cfg->collect.socket,
				     .flags = SEALSHM_NO_AUTOSTART };
	struct shown_object v[DETAIL_OBJECTS_MAX];
	struct object_scan scan;
	char line[160];
	int r;

	r = objects_scan(sc->det_name, &opts, v, DETAIL_OBJECTS_MAX, &scan);
	if (r < 0) {
		putf(y++, 0, "objects:     not read (%s)", strerror(-r));
		return y;
	}
	putf(y++, 0, "objects:     %zu%s", scan.n, scan.partial ? " in the first 16 MiB" : "");
	for (size_t i = 0; i < scan.n && i < DETAIL_OBJECTS_MAX; i++)
		putf(y++, 0, "  %s", object_describe(&v[i], line, sizeof(line)));
	if (scan.n > DETAIL_OBJECTS_MAX)
		putf(y++, 0, "  ... %zu more (sealshm stat lists them)", scan.n - DETAIL_OBJECTS_MAX);
	return y;
}

static void draw_details(struct screen *sc)
{
	const struct segment *g = snapshot_find(sc->snap, sc->det_name, sc->det_ino);
	const struct sealshm_info *in;
	char a[64], b[64], seals[160], shown[ESCAPED_NAME_MAX];
	int y = TITLE_ROW, rows;
	uint64_t total = 0;

	attron(A_REVERSE);
	move(y, 0);
	hline(' ', COLS);
	putf(y++, 0, "Segment %s  (Esc, Enter or d: back to the list; q: quit)",
	     escape_name(sc->det_name, shown, sizeof(shown)));
	attroff(A_REVERSE);
	if (!g) {
		put(y, 0, "This segment is gone: its name was unlinked.");
		return;
	}
	in = &g->info;
	putf(y++, 0, "name:        %s", escape_name(in->name, shown, sizeof(shown)));
	human_bytes(in->size, a, sizeof(a));
	human_bytes(in->resident, b, sizeof(b));
	putf(y++, 0, "size:        %" PRIu64 " bytes (%s)   resident: %" PRIu64 " bytes (%s)",
	     in->size, a, in->resident, b);
	putf(y++, 0, "owner:       %s (uid %" PRIu32 ", gid %" PRIu32 ")   mode: %04" PRIo32
	     "   lifetime: %s", g->owner, in->uid, in->gid, in->mode, lifetime_name(in));
	seals_names(in->seals, seals, sizeof(seals));
	putf(y++, 0, "seals:       %s", seals);
	putf(y++, 0, "inode:       %" PRIu64, in->ino);
	local_time(in->ctime_ns, "%Y-%m-%d %H:%M:%S", a, sizeof(a));
	putf(y++, 0, "created:     %s by pid %" PRIu32, a, in->creator_pid);
	if (in->atime_ns)
		local_time(in->atime_ns, "%Y-%m-%d %H:%M:%S", b, sizeof(b));
	else
		snprintf(b, sizeof(b), "never");
	putf(y++, 0, "attaches:    %" PRIu64 "   last attach: %s", in->n_attaches, b);
	if (in->n_sessions == 0) {
		put(y++, 0, "trackers:    none (no session tracks the name)");
	} else {
		char pids[128];
		size_t n = 0;
		uint32_t shown = in->n_sessions < SEALSHM_INFO_PIDS ? in->n_sessions
								  : SEALSHM_INFO_PIDS;

		pids[0] = '\0';
		for (uint32_t i = 0; i < shown; i++)
			n += (size_t)snprintf(pids + n, sizeof(pids) - n, "%s%" PRIu32,
					      i ? ", " : "", in->session_pids[i]);
		putf(y++, 0, "trackers:    %" PRIu32 " session%s, first pid%s %s%s", in->n_sessions,
		     in->n_sessions == 1 ? "" : "s", shown == 1 ? "" : "s", pids,
		     in->n_sessions > shown ? ", ..." : "");
	}
	y = draw_objects(sc, y);
	if (!sc->snap->mappers_scanned) {
		put(y++, 0, "mappers:     not scanned (--no-mappers)");
		return;
	}
	for (size_t i = 0; i < g->mappers.n; i++)
		total += g->mappers.v[i].bytes;
	putf(y++, 0, "mappers:     %zu process%s, %" PRIu64 " bytes mapped", g->mappers.n,
	     g->mappers.n == 1 ? "" : "es", total);
	if (g->mappers.n == 0)
		return;
	attron(A_BOLD);
	putf(y++, 0, "  %8s  %-16s %14s", "PID", "COMM", "BYTES");
	attroff(A_BOLD);
	rows = LINES - y;
	if (sc->det_scroll > (int)g->mappers.n - rows)
		sc->det_scroll = (int)g->mappers.n - rows;
	if (sc->det_scroll < 0)
		sc->det_scroll = 0;
	for (int i = 0; i < rows && sc->det_scroll + i < (int)g->mappers.n; i++) {
		const struct mapper *m = &g->mappers.v[sc->det_scroll + i];

		if (i == rows - 1 && sc->det_scroll + i + 1 < (int)g->mappers.n) {
			putf(y + i, 0, "  ... %zu more (arrow keys scroll)",
			     g->mappers.n - (size_t)(sc->det_scroll + i));
			break;
		}
		putf(y + i, 0, "  %8" PRIu32 "  %-16s %14" PRIu64, m->pid, m->comm, m->bytes);
	}
}

static const char *const help_lines[] = {
	"shmtop: keys",
	"",
	"  Up/Down, j/k      select a segment (PgUp/PgDn, Home/End, g/G)",
	"  Enter, d          details of the selected segment: trackers, mappers, seals",
	"  < >               sort by the column left/right of the current one",
	"  n s r o m a t     sort by NAME, SIZE, RES, OWNER, MAPS, ATTACH, AGE",
	"  R                 reverse the order",
	"  / f               filter: show names containing a text (empty clears)",
	"  D                 set the refresh interval (seconds)",
	"  + -               double / halve the refresh interval",
	"  space             refresh now",
	"  h ?               this help",
	"  q                 quit",
	"",
	"Columns: SIZE and RES (resident) in bytes with K/M/G (1024), OWNER, MODE,",
	"LIFE (first/last: the name goes when the first/last tracking session ends),",
	"TRK (tracking sessions), MAPS (processes mapping it), ATTACH (attaches served),",
	"SEALS (S seal, s shrink, g grow, w write, f future_write, x exec), AGE, NAME.",
	"",
	"Press any key to go back.",
};

static void draw_help(void)
{
	for (size_t i = 0; i < sizeof(help_lines) / sizeof(help_lines[0]); i++)
		put(TITLE_ROW + (int)i, 0, help_lines[i]);
}

static void draw(struct screen *sc)
{
	erase();
	if (sc->snap)
		draw_header(sc);
	draw_message(sc);
	if (sc->mode == VIEW_HELP)
		draw_help();
	else if (sc->snap && sc->mode == VIEW_DETAILS)
		draw_details(sc);
	else if (sc->snap)
		draw_list(sc);
	if (sc->prompt != PROMPT_NONE) {
		int x = (int)strlen(prompt_label(sc->prompt)) + (int)sc->input_len;

		move(MSG_ROW, x < COLS ? x : COLS - 1);
		curs_set(1);
	} else {
		curs_set(0);
	}
	refresh();
}

/* --- keys ------------------------------------------------------------------------------ */
static void set_sort(struct screen *sc, enum column c)
{
	sc->sort = c;
	sc->reverse = false;
	rebuild_view(sc);
	message(sc, "Sorted by %s", columns[c].title);
}

static void set_interval(struct screen *sc, double s)
{
	if (s < INTERVAL_MIN)
		s = INTERVAL_MIN;
	if (s > INTERVAL_MAX)
		s = INTERVAL_MAX;
	sc->interval_s = s;
	schedule(sc, now_ms());
	message(sc, "Refresh interval %.1fs", s);
}

static void prompt_start(struct screen *sc, enum prompt p)
{
	sc->prompt = p;
	if (p == PROMPT_FILTER)
		snprintf(sc->input, sizeof(sc->input), "%s", sc->filter);
	else
		snprintf(sc->input, sizeof(sc->input), "%.1f", sc->interval_s);
	sc->input_len = strlen(sc->input);
}

static void prompt_key(struct screen *sc, int ch)
{
	switch (ch) {
	case KEY_ESC:
	case KEY_CTRL('g'):
		sc->prompt = PROMPT_NONE;
		message(sc, "Cancelled");
		return;
	case '\n':
	case '\r':
	case KEY_ENTER:
		if (sc->prompt == PROMPT_FILTER) {
			snprintf(sc->filter, sizeof(sc->filter), "%s", sc->input);
			sc->sel = sc->top = 0;
			rebuild_view(sc);
			if (sc->filter[0])
				message(sc, "Showing names containing '%s'", sc->filter);
			else
				message(sc, "Filter cleared");
		} else {
			char *end;
			double d = strtod(sc->input, &end);

			if (end == sc->input || *end || !(d > 0))
				message(sc, "Not a number of seconds: '%s'", sc->input);
			else
				set_interval(sc, d);
		}
		sc->prompt = PROMPT_NONE;
		return;
	case KEY_BACKSPACE:
	case 127:
	case KEY_CTRL('h'):
		if (sc->input_len > 0)
			sc->input[--sc->input_len] = '\0';
		return;
	case KEY_CTRL('u'):
		sc->input_len = 0;
		sc->input[0] = '\0';
		return;
	default:
		/* Printable ASCII and UTF-8 bytes of a name; no control keys. */
		if (ch >= ' ' && ch <= 0xff && ch != 127 && sc->input_len + 1 < sizeof(sc->input)) {
			sc->input[sc->input_len++] = (char)ch;
			sc->input[sc->input_len] = '\0';
		}
	}
}

static void list_key(struct screen *sc, int ch)
{
	int page = LINES - FIRST_ROW > 1 ? LINES - FIRST_ROW : 1;

	switch (ch) {
	case KEY_UP:
	case 'k':
		sc->sel--;
		break;
	case KEY_DOWN:
	case 'j':
		sc->sel++;
		break;
	case KEY_PPAGE:
		sc->sel -= page;
		break;
	case KEY_NPAGE:
		sc->sel += page;
		break;
	case KEY_HOME:
	case 'g':
		sc->sel = 0;
		break;
	case KEY_END:
	case 'G':
		sc->sel = sc->n_view - 1;
		break;
	case '\n':
	case '\r':
	case KEY_ENTER:
	case 'd':
		if (sc->n_view == 0) {
			message(sc, "No segment selected");
			break;
		}
		snprintf(sc->det_name, sizeof(sc->det_name), "%s", sc->view[sc->sel]->info.name);
		sc->det_ino = sc->view[sc->sel]->info.ino;
		sc->det_scroll = 0;
		sc->mode = VIEW_DETAILS;
		break;
	case '<':
		set_sort(sc, sc->sort > 0 ? sc->sort - 1 : COL_MAX - 1);
		break;
	case '>':
		set_sort(sc, sc->sort + 1 < COL_MAX ? sc->sort + 1 : 0);
		break;
	case 'n':
		set_sort(sc, COL_NAME);
		break;
	case 's':
		set_sort(sc, COL_SIZE);
		break;
	case 'r':
		set_sort(sc, COL_RES);
		break;
	case 'o':
		set_sort(sc, COL_OWNER);
		break;
	case 'm':
		set_sort(sc, COL_MAPS);
		break;
	case 'a':
		set_sort(sc, COL_ATTACH);
		break;
	case 't':
		set_sort(sc, COL_AGE);
		break;
	case 'R':
		sc->reverse = !sc->reverse;
		rebuild_view(sc);
		message(sc, "Sorted by %s, %s", columns[sc->sort].title,
			columns[sc->sort].descending != sc->reverse ? "descending" : "ascending");
		break;
	default:
		message(sc, "Unknown key (h for help)");
	}
	clamp_selection(sc);
}

static void handle_key(struct screen *sc, int ch)
{
	if (ch == KEY_RESIZE)
		return;		/* LINES and COLS are new: the next draw fits them */
	if (sc->prompt != PROMPT_NONE) {
		prompt_key(sc, ch);
		return;
	}
	sc->msg[0] = '\0';
	if (sc->mode == VIEW_HELP) {
		sc->mode = VIEW_LIST;
		return;
	}
	switch (ch) {
	case 'q':
		sc->quit = true;
		return;
	case 'h':
	case '?':
		sc->mode = VIEW_HELP;
		return;
	case '/':
	case 'f':
		prompt_start(sc, PROMPT_FILTER);
		return;
	case 'D':
		prompt_start(sc, PROMPT_INTERVAL);
		return;
	case '+':
		set_interval(sc, sc->interval_s * 2);
		return;
	case '-':
		set_interval(sc, sc->interval_s / 2);
		return;
	case ' ':
		sc->next_ms = 0;	/* due now */
		return;
	}
	if (sc->mode == VIEW_DETAILS) {
		switch (ch) {
		case KEY_ESC:
		case '\n':
		case '\r':
		case KEY_ENTER:
		case KEY_BACKSPACE:
		case KEY_LEFT:
		case 'd':
			sc->mode = VIEW_LIST;
			break;
		case KEY_UP:
		case 'k':
			sc->det_scroll--;
			break;
		case KEY_DOWN:
		case 'j':
			sc->det_scroll++;
			break;
		default:
			message(sc, "Unknown key (h for help, Esc back to the list)");
		}
		return;
	}
	list_key(sc, ch);
}

/* --- the loop ---------------------------------------------------------------------------- */
int screen_run(const struct shmtop_config *cfg)
{
	struct screen sc = {
		.cfg = cfg,
		.interval_s = cfg->interval_s,
		.sort = cfg->sort,
		.reverse = cfg->reverse,
	};
	SCREEN *term;
	int r;

	if (cfg->filter)
		snprintf(sc.filter, sizeof(sc.filter), "%s", cfg->filter);
	/* The first snapshot before the terminal changes: a trackerd that
	 * does not answer is an error message on a normal terminal. */
	r = collect_snapshot(&cfg->collect, NULL, &sc.snap);
	if (r < 0) {
		char why[1024];

		collect_describe_error(&cfg->collect, r, why, sizeof(why));
		fprintf(stderr, "shmtop: %s\n", why);
		return EXIT_FAILURE;
	}
	sc.frames = 1;

	/* Characters as the terminal encodes them (names are UTF-8); only
	 * LC_CTYPE: figures keep the C locale's digits and points. */
	(void)setlocale(LC_CTYPE, "");
	term = newterm(NULL, stdout, stdin);
	if (!term) {
		const char *t = getenv("TERM");

		fprintf(stderr, "shmtop: Failed to set up the terminal '%s'\n", t ? t : "");
		snapshot_free(sc.snap);
		return EXIT_FAILURE;
	}
	set_term(term);
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	set_escdelay(25);	/* Esc alone, not the start of an arrow key, after 25 ms */
	curs_set(0);

	rebuild_view(&sc);
	schedule(&sc, now_ms());
	while (!sc.quit) {
		uint64_t now;
		int ch;

		draw(&sc);
		now = now_ms();
		if (now >= sc.next_ms) {
			if (cfg->frames && sc.frames >= cfg->frames)
				break;
			refresh_data(&sc);
			/* From now, not from the due time: a slow frame
			 * must not make the next ones come back to back. */
			schedule(&sc, now_ms());
			continue;
		}
		timeout((int)(sc.next_ms - now));
		ch = getch();
		if (ch != ERR)
			handle_key(&sc, ch);
	}

	endwin();
	delscreen(term);
	free(sc.view);
	snapshot_free(sc.snap);
	return EXIT_SUCCESS;
}
