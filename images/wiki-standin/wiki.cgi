#!/bin/sh
# GET /cgi-bin/wiki?Page shows a page; POST with a body saves it (needs the edit token).
page=$(printf '%s' "${QUERY_STRING:-Home}" | tr -cd 'A-Za-z0-9_-')
[ -n "$page" ] || page=Home
if [ "${REQUEST_METHOD:-GET}" = POST ]; then
  if [ "${HTTP_X_WIKI_TOKEN:-}" != "${WIKI_EDIT_TOKEN:-}" ] || [ -z "${WIKI_EDIT_TOKEN:-}" ]; then
    printf 'Status: 403 Forbidden\r\nContent-Type: text/plain\r\n\r\nforbidden\n'; exit 0
  fi
  head -c "${CONTENT_LENGTH:-0}" > "/data/pages/$page"
fi
printf 'Content-Type: text/plain\r\n\r\n'
cat "/data/pages/$page" 2>/dev/null || echo "(no page $page yet)"
