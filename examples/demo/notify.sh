#!/bin/bash
# Notify script for the demo configs: keepalived calls it as `notify.sh MASTER|BACKUP|FAULT|STOP`.
# Install as /etc/keepalived/notify.sh, owned by root, mode 0755 (script security rejects writable scripts).
state=$1
logger -t keepalived-notify "$(hostname) VRRP instance VI_1 is now $state"
case $state in
  MASTER) : ;; # e.g. start a service that must run on the VIP holder
  BACKUP|FAULT|STOP) : ;;
esac
