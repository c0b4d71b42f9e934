#!/usr/bin/env bash
# Runs a command in a root file system made of this machine's base system (its /usr, /etc, /var
# and the other FHS folders, standing in for the base image) with an image stage's own folders
# (/app, /data …) mounted over it: what a container of that stage would see, for a machine with
# no container engine. Meant to run under `unshare --mount --propagation private`, so every
# mount here vanishes with the command and nothing of the host changes.
#
#   enter-rootfs.sh <stage-fs> <passwd> <group> <uid:gid> <workdir> <command…>
set -euo pipefail

stage_fs=$1 passwd=$2 group=$3 user=$4 workdir=$5
shift 5

root="$stage_fs/.rootfs"
mkdir -p "$root"
for name in bin boot etc home lib lib32 lib64 libx32 media mnt opt root run sbin srv tmp usr var; do
  [ -e "$stage_fs/$name" ] && continue # the stage has a folder of its own by this name
  if [ -L "/$name" ]; then
    ln -sfn "$(readlink "/$name")" "$root/$name"
  elif [ -d "/$name" ]; then
    mkdir -p "$root/$name"
    mount --bind "/$name" "$root/$name"
  fi
done
for name in dev proc sys; do
  mkdir -p "$root/$name"
  mount --rbind "/$name" "$root/$name"
done
for dir in "$stage_fs"/*/; do
  name=$(basename "$dir")
  mkdir -p "$root/$name"
  mount --bind "$dir" "$root/$name"
done
# The base image's users (its `node` user) instead of this machine's.
mount --bind "$passwd" "$root/etc/passwd"
mount --bind "$group" "$root/etc/group"

mkdir -p "$root$workdir"
# shellcheck disable=SC2016 # $0 and $@ belong to the inner shell
exec chroot --userspec="$user" "$root" /bin/sh -c 'cd "$0" && exec "$@"' "$workdir" "$@"
