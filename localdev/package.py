"""The deployment zip without what only the local stage uses (chalicelib/dev/): `chalice
package` takes chalicelib/ whole, so `make package` rewrites its zip through this.

    python -m localdev.package build/package/dev/deployment.zip
"""
import sys
import zipfile
from pathlib import Path

LOCAL_ONLY = "chalicelib/dev/"


def leave_out_local_only(zip_path: Path) -> int:
    """Rewrite the zip without LOCAL_ONLY; the number of entries left out."""
    rewritten = zip_path.with_suffix(".tmp")
    left_out = 0
    with zipfile.ZipFile(zip_path) as source, zipfile.ZipFile(rewritten, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            if entry.filename.startswith(LOCAL_ONLY):
                left_out += 1
                continue
            target.writestr(entry, source.read(entry))
    rewritten.replace(zip_path)
    return left_out


if __name__ == "__main__":
    print(f"{leave_out_local_only(Path(sys.argv[1]))} local-only files left out of {sys.argv[1]}")
