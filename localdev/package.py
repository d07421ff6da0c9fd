"""The deployment zip as Lambda should load it: `chalice package` zips chalicelib/ whole and
every dependency as installed, sources only. `make package` rewrites its zip through this:

- what the app never imports is left out (LEFT_OUT, each with why; tests/test_package.py runs
  the unzipped package on Python 3.12 with only boto3, through every kind of route);
- every module is precompiled (.pyc in __pycache__, unchecked-hash: Lambda's /var/task is
  read-only, so without them each cold start compiles every module it imports, and the
  unchecked hash skips even the source's stat).

    python -m localdev.package build/package/dev/deployment.zip
"""
import compileall
import py_compile
import re
import sys
import tempfile
import zipfile
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
}
_LEFT_OUT = re.compile("|".join(f"(?:{pattern})" for pattern in LEFT_OUT))


def left_out(name: str) -> bool:
    return _LEFT_OUT.match(name) is not None


def rewrite(zip_path: Path) -> tuple[int, int]:
    """Rewrite the zip without what is left out, with every module compiled: (entries left
    out, modules compiled)."""
    if sys.version_info[:2] != RUNTIME:
        raise SystemExit(f"run this with Python {RUNTIME[0]}.{RUNTIME[1]}, the Lambda runtime's")
    with tempfile.TemporaryDirectory() as scratch, zipfile.ZipFile(zip_path) as source:
        root = Path(scratch)
        kept = [entry for entry in source.infolist() if not left_out(entry.filename)]
        for entry in kept:
            source.extract(entry, root)
        # Quietly: a few modules only for other Pythons (lxml's html5lib glue...) do not compile;
        # those are never imported here.
        compileall.compile_dir(root, quiet=2, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
                               workers=1)
        compiled = sorted(root.rglob("__pycache__/*.pyc"))
        rewritten = zip_path.with_suffix(".tmp")
        with zipfile.ZipFile(rewritten, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
            for entry in kept:
                target.writestr(entry, (root / entry.filename).read_bytes() if not entry.is_dir() else b"",
                                compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
            for path in compiled:
                target.write(path, path.relative_to(root).as_posix())
    rewritten.replace(zip_path)
    return len(source.infolist()) - len(kept), len(compiled)


if __name__ == "__main__":
    left, compiled = rewrite(Path(sys.argv[1]))
    print(f"{sys.argv[1]}: {left} files left out, {compiled} modules precompiled")
