# Shared by scripts/demo and scripts/test (sourced, not run): install what is missing.
#
# flood-audit and the Python packages it needs are installed into the active environment
# (a virtual environment if one is active) only when something is missing: a second run
# starts at once. torch and torchvision come from the package registry when they are not on
# disk (about 2 minutes, 6 GB).

install_missing() {
  # $1: the pip extras to have besides the base dependencies: "", "test" or "test,ray".
  local extras="$1" modules="audit attacks models reports results torch torchvision opacus sklearn matplotlib jinja2 tqdm"
  if [[ ",$extras," == *",test,"* ]]; then
    modules="$modules pytest playwright"
  fi
  if [[ ",$extras," == *",ray,"* ]]; then
    modules="$modules ray"
  fi
  if ! python3 - $modules <<'PY' >/dev/null 2>&1
import importlib, importlib.metadata, sys
importlib.metadata.version("flood-audit")  # the project itself is installed, not only on the path
for name in sys.argv[1:]:
    importlib.import_module(name)
PY
  then
    echo "installing flood-audit${extras:+ with [$extras]} and what it needs (first run only)..." >&2
    python3 -m pip install --quiet --disable-pip-version-check -e ".${extras:+[$extras]}"
  fi
}
