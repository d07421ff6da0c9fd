"""The deployment zip as Lambda should load it: `chalice package` zips chalicelib/ whole and
every dependency as installed, sources only. `make package` rewrites its zip through this:

- what the app never imports is left out (LEFT_OUT, each with why; tests/test_package.py runs
  the unzipped package on Python 3.12 with only boto3, through every kind of route);
- every module is precompiled: Lambda's /var/task is read-only, so without bytecode each cold
  start compiles every module it imports. The app's own code (app.py, chalicelib/) keeps its
  source, for tracebacks with lines, beside unchecked-hash .pyc in __pycache__/ (the hash is never
  checked: not even the source's stat). The dependencies ship as bytecode alone, `module.pyc`
  where `module.py` was, which Python imports without a source (a third of the zip's Python);
  their tracebacks name file and line, as in the zip (`pydantic/main.py`), without the line's text;
- shared libraries lose their symbol tables (`strip --strip-unneeded`: what the dynamic loader
  needs stays), which only debuggers and profilers read (cryptography's is 14 MB, 11.6 MB stripped).
  GNU binutils' strip is required, not skipped when missing: what a zip holds does not depend on
  the tools of the machine that built it (Debian's and CI's have binutils);
- zlib's best compression (level 9: 0.5% smaller than the default).

Weighed and kept: cbor2's compiled module (cbor2 6 has no pure-Python fallback: its __init__
imports everything from it); certifi's CA bundle (botocore verifies AWS's certificates with it
whenever certifi is importable); pydantic/deprecated/ (the V1 model methods, .dict() and the like,
import it when called: a 500 only a runtime call would show, for 11 KiB); the dependencies'
docstrings (0.23 MiB: -OO also drops their asserts, and stripping docstrings alone changes what
their code sees); Zopfli's deflate (3% smaller: 2 minutes of CPU per build, one more dependency).
cryptography's, lxml's and pydantic-core's compiled modules alone are 8.4 MiB of the zip.

    python -m localdev.package build/package/dev/deployment.zip
"""
import py_compile
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from importlib.util import cache_from_source
from pathlib import Path

# The Lambda runtime (python3.12): .pyc files are only read by the Python that wrote them.
RUNTIME = (3, 12)

LEFT_OUT = {
    r"(.*/)?__pycache__/": "bytecode the working tree happens to hold: every module is compiled afresh below",
    r"dns/": "dnspython: email-validator imports it only for deliverability checks, which the app turns off",
    r"pycparser/": "parses C declarations when building cffi modules; argon2's is prebuilt",
    r"cffi/": "cffi's builder; prebuilt cffi modules (argon2) load through _cffi_backend alone",
    r"[^/]+\.dist-info/": "packaging metadata: nothing the app imports reads it (pydantic would only for EmailStr)",
    r"lxml/(objectify|sax|builder)[.\w-]*\.(so|py)$": "lxml modules neither signxml nor the app import",
    r"pyasn1_modules/(?!(__init__|rfc5280)\.py$)": "ASN.1 modules of RFCs: webauthn imports only RFC 5280's",
    r"lxml/(html|isoschematron|includes)/": "lxml's HTML tools, Schematron and C headers: not imported",
    r".*\.(pyi|pyx|pxi|pxd|h|c)$": "type stubs and C/Cython sources",
    r".*/py\.typed$": "a marker for type checkers",
    r"pydantic/(v1/|experimental/|mypy\.py$)": "pydantic's V1 API (imported only to warn about a V1-style type"
                                             " in a model: the app has none), experimental features, mypy plugin",
    r"signxml/xades/": "XAdES signatures and their schemas: SAML's are plain XML-DSig",
    r"[^/]+\.data/": "files a wheel installs outside its package (segno's man page)",
}
_LEFT_OUT = re.compile("|".join(f"(?:{pattern})" for pattern in LEFT_OUT))
# Shipped with its source (the rest of the zip's Python as bytecode alone).
_OWN_CODE = re.compile(r"(app\.py|chalicelib/.*)$")


def left_out(name: str) -> bool:
    return _LEFT_OUT.match(name) is not None


def compiled_name(module: str) -> str:
    """Where a module's bytecode goes in the zip: __pycache__/ beside the app's own source,
    in the source's place for a dependency's."""
    return cache_from_source(module) if _OWN_CODE.match(module) else module + "c"


def rewrite(zip_path: Path) -> tuple[int, int]:
    """Rewrite the zip without what is left out, with every module compiled: (entries left
    out, modules compiled)."""
    if sys.version_info[:2] != RUNTIME:
        raise SystemExit(f"run this with Python {RUNTIME[0]}.{RUNTIME[1]}, the Lambda runtime's")
    strip = shutil.which("strip")
    if strip is None:
        raise SystemExit("strip not found: install GNU binutils (apt-get install binutils)")
    rewritten = zip_path.with_suffix(".tmp")
    with tempfile.TemporaryDirectory() as scratch, zipfile.ZipFile(zip_path) as source, \
            zipfile.ZipFile(rewritten, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        root = Path(scratch)
        kept = [entry for entry in source.infolist() if not left_out(entry.filename) and not entry.is_dir()]
        compiled = 0
        for entry in kept:
            path = Path(source.extract(entry, root))
            if entry.filename.endswith(".py"):
                pyc = compiled_name(entry.filename)
                # The name tracebacks show: the zip's, not this scratch directory's (which would
                # also make every build's bytecode differ).
                py_compile.compile(str(path), cfile=str(root / pyc), dfile=entry.filename, doraise=True,
                                   invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
                compiled += 1
                add(target, entry, pyc, (root / pyc).read_bytes())
                if pyc.startswith(entry.filename):   # a dependency's: its bytecode alone
                    continue
            elif entry.filename.endswith(".so"):
                subprocess.run([strip, "--strip-unneeded", str(path)], check=True)
            add(target, entry, entry.filename, path.read_bytes())
    rewritten.replace(zip_path)
    return len(source.infolist()) - len(kept), compiled


def add(target: zipfile.ZipFile, entry: zipfile.ZipInfo, name: str, data: bytes) -> None:
    """Write data under name with entry's date and permissions (a rebuild gives the same zip)."""
    info = zipfile.ZipInfo(name, date_time=entry.date_time)
    info.external_attr = entry.external_attr
    target.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)


if __name__ == "__main__":
    left, compiled = rewrite(Path(sys.argv[1]))
    print(f"{sys.argv[1]}: {left} files left out, {compiled} modules precompiled")
