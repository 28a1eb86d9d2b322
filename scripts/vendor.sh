#!/usr/bin/env bash
# Re-fetch the pinned browser libraries of the console (Leaflet) from the npm registry, check
# them against their pinned integrity, and copy their dist files into api/static/vendor/.
# The files are committed: serving needs none of this (nor npm); run it to check or upgrade.
set -euo pipefail
cd "$(dirname "$0")/.."

LEAFLET_VERSION="1.9.4"
LEAFLET_INTEGRITY="sha512-nxS1ynzJOmOlHp+iL3FyWqK89GtNL8U8rvlMOsQdTTssxZwCXh8N2NB3GDQOL+YR3XnWyZAxwQixURb+FA74PA=="
DEST="api/static/vendor/leaflet"

if ! command -v npm >/dev/null 2>&1; then
    . scripts/_env.sh
    echo "== installing npm"; apt_install npm
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "leaflet@$LEAFLET_VERSION" >/dev/null)
tarball="$work/leaflet-$LEAFLET_VERSION.tgz"
got="sha512-$(python3 -c 'import base64, hashlib, sys
print(base64.b64encode(hashlib.sha512(open(sys.argv[1], "rb").read()).digest()).decode())' "$tarball")"
if [ "$got" != "$LEAFLET_INTEGRITY" ]; then
    echo "leaflet@$LEAFLET_VERSION: integrity $got, expected $LEAFLET_INTEGRITY" >&2
    exit 1
fi
tar -xzf "$tarball" -C "$work"
rm -rf "$DEST"
mkdir -p "$DEST/images"
cp "$work/package/dist/leaflet.js" "$work/package/dist/leaflet.css" "$DEST/"
cp "$work/package/dist/images/"*.png "$DEST/images/"
cp "$work/package/LICENSE" "$DEST/LICENSE"
echo "$LEAFLET_VERSION $LEAFLET_INTEGRITY" > "$DEST/VERSION"
echo "leaflet@$LEAFLET_VERSION checked and copied to $DEST"
