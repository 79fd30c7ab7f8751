/*
 * console.c: the web console, one page (gateway/console/: index.html,
 * app.js, app.css) built into the binary by the Makefile (its bytes as C
 * arrays in console_files.c).  Served at /, /app.js, /app.css when
 * console = true, with a strict Content-Security-Policy: everything from
 * this origin, nothing inline, nothing from another host.
 *
 * Invariant: the files need no token (the page asks for one and sends it
 * with each API call); they hold nothing but the page.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "gateway.h"

extern const unsigned char console_index_html[], console_app_js[],
    console_app_css[];
extern const unsigned long console_index_html_len, console_app_js_len,
    console_app_css_len;

#define CSP	"default-src 'none'; script-src 'self'; style-src 'self'; " \
		"connect-src 'self'; img-src 'self' data:; base-uri 'none'; " \
		"form-action 'none'; frame-ancestors 'none'"

/* GET /, /app.js, /app.css */
void
console_serve(struct hreq *r, const struct gw_route *rt, char **p, int np)
{
	const unsigned char *f = console_index_html;
	unsigned long len = console_index_html_len;
	const char *ctype = "text/html; charset=utf-8";
	char *body;

	(void)p;
	(void)np;
	if (!GS.console) {
		hreq_error(r, 404, "no such route (console = false)");
		return;
	}
	if (strcmp(rt->path, "/app.js") == 0) {
		f = console_app_js;
		len = console_app_js_len;
		ctype = "text/javascript; charset=utf-8";
	} else if (strcmp(rt->path, "/app.css") == 0) {
		f = console_app_css;
		len = console_app_css_len;
		ctype = "text/css; charset=utf-8";
	}
	if ((body = malloc(len)) == NULL)
		fatal("malloc");
	memcpy(body, f, len);
	hreq_header_add(r, "Content-Security-Policy", CSP);
	hreq_header_add(r, "X-Content-Type-Options", "nosniff");
	hreq_header_add(r, "Referrer-Policy", "no-referrer");
	hreq_header_add(r, "Cache-Control", "no-cache");
	hreq_answer(r, 200, ctype, body, len);
}
