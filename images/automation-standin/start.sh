#!/bin/sh
set -eu
mkdir -p /var/spool/cron/crontabs /srv/automation /data
[ -f /etc/automation/crontab ] && cp /etc/automation/crontab /var/spool/cron/crontabs/root
echo ok > /srv/automation/health
crond -b -L /dev/stdout
echo "automation listening on ${AUTOMATION_ADDR:-0.0.0.0}:${AUTOMATION_PORT:-8082}"
exec httpd -f -v -p "${AUTOMATION_ADDR:-0.0.0.0}:${AUTOMATION_PORT:-8082}" -h /srv/automation
