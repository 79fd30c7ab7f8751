#include "gateway.h"
void mcps_post(struct hreq *r, const struct gw_route *rt, char **p, int n) { (void)rt; (void)p; (void)n; hreq_error(r, 404, "x"); }
void mcps_delete(struct hreq *r, const struct gw_route *rt, char **p, int n) { (void)rt; (void)p; (void)n; hreq_error(r, 404, "x"); }
