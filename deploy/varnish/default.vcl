# blogsite in front of Varnish 7.1 with varnish-modules (vmod xkey).
#
# Caches what the app marks public, for its s-maxage, tagged with the app's
# cache tags; the app purges those tags on every write (core/cache/edge.py), so
# a page is never older than the last edit. Backends, the round-robin director
# "app" and the ACL "purgers" live in site.vcl next to this file, written by
# scripts/varnish-site-vcl.py (one per deployment: addresses differ, logic does not).

vcl 4.1;

import std;
import directors;
import xkey;

include "site.vcl";

sub vcl_recv {
    set req.backend_hint = app.backend();

    # PURGE with an "xkey-purge: tag tag ..." header drops every object
    # carrying any of those tags; only from trusted addresses.
    if (req.method == "PURGE") {
        if (client.ip !~ purgers) {
            return (synth(403, "Purge not allowed from this address"));
        }
        if (!req.http.xkey-purge) {
            return (synth(400, "Send the tags to purge in an xkey-purge header"));
        }
        set req.http.x-purged = xkey.purge(req.http.xkey-purge);
        return (synth(200, "Purged " + req.http.x-purged + " objects"));
    }
    if (req.method != "GET" && req.method != "HEAD") {
        return (pass);
    }

    # One key per page: sorted query, no empty "?", no tracking parameters
    # (the app never reads them, so they only split the cache).
    set req.url = regsuball(req.url, "([?&])(utm_[a-z]+|fbclid|gclid|mc_eid)=[^&]*", "\1");
    set req.url = regsuball(req.url, "&&+", "&");
    set req.url = regsub(req.url, "[?&]+$", "");
    set req.url = regsub(req.url, "\?&", "?");
    set req.url = std.querysort(req.url);
    set req.http.host = std.tolower(req.http.host);

    if (req.url ~ "^/(admin/|healthz|readyz)") {
        return (pass);
    }
    # A session or CSRF cookie: someone who may see something personal.
    if (req.http.Cookie ~ "(^|;\s*)(sessionid|csrftoken)=" || req.http.Authorization) {
        return (pass);
    }
    # Every other cookie (analytics and the like) means nothing to the app.
    unset req.http.Cookie;

    # Stale objects only while no backend is healthy: an expired page (a
    # scheduled post going live) is fetched afresh, not served once more.
    if (std.healthy(req.backend_hint)) {
        set req.grace = 0s;
    }
    return (hash);
}

sub vcl_backend_response {
    # Only what the app marks public with an s-maxage; everything else is
    # remembered as uncacheable for a short while (hit-for-miss).
    if (beresp.http.Set-Cookie
        || beresp.http.Cache-Control !~ "(^|[ ,])public([ ,]|$)"
        || beresp.http.Cache-Control !~ "s-maxage=[0-9]+") {
        set beresp.uncacheable = true;
        set beresp.ttl = 10s;
        return (deliver);
    }
    # Varnish already takes the TTL from s-maxage; the grace from
    # stale-while-revalidate applies only while the backends are down.
    if (beresp.http.Cache-Control ~ "stale-while-revalidate=[0-9]+") {
        set beresp.grace = std.duration(
            regsub(beresp.http.Cache-Control, ".*stale-while-revalidate=([0-9]+).*", "\1s"), 0s);
    } else {
        set beresp.grace = 0s;
    }
    # The app's tags ("p12 t3 posts"), space separated, as xkey expects, and
    # "all", which `manage.py purge_cache` purges to empty the cache.
    if (beresp.http.Cache-Tag) {
        set beresp.http.xkey = beresp.http.Cache-Tag + " all";
    } else if (beresp.http.Surrogate-Key) {
        set beresp.http.xkey = beresp.http.Surrogate-Key + " all";
    } else {
        set beresp.http.xkey = "all";
    }
    return (deliver);
}

sub vcl_deliver {
    # Tags are for purging, not for readers. Cache-Control passes through as
    # the app wrote it: max-age=0, so browsers revalidate (a cheap 304 here).
    unset resp.http.xkey;
    unset resp.http.Cache-Tag;
    unset resp.http.Surrogate-Key;
    if (obj.uncacheable) {
        set resp.http.X-Edge-Cache = "pass";
    } else if (obj.hits > 0) {
        set resp.http.X-Edge-Cache = "hit";
    } else {
        set resp.http.X-Edge-Cache = "miss";
    }
    return (deliver);
}

sub vcl_synth {
    set resp.http.Content-Type = "text/plain; charset=utf-8";
    set resp.body = resp.reason + {"
"};
    return (deliver);
}
