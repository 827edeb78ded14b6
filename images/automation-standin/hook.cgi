#!/bin/sh
# /cgi-bin/hook?NAME runs /etc/automation/hooks/NAME (when executable) and returns its output.
name=$(printf '%s' "${QUERY_STRING:-}" | tr -cd 'A-Za-z0-9_-')
h="/etc/automation/hooks/$name"
if [ -z "$name" ] || [ ! -x "$h" ]; then printf 'Status: 404 Not Found\r\nContent-Type: text/plain\r\n\r\nno hook %s\n' "$name"; exit 0; fi
printf 'Content-Type: text/plain\r\n\r\n'
"$h" 2>&1
