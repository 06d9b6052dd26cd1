#!/usr/bin/env python3
"""Writes a pacman sync database (gzip tar of <name>-<version>/desc, as repo-add makes) for the
synthetic packages of aur_server.py --synthetic: `synth-00000`... at 1.0-1, except every
`--outdated-every`th one (none with 0), which is published at 0.9-1 (so the AUR's 1.0-1 is newer).

Usage: synth_db.py --count N --outdated-every K OUT   (OUT is NAME.db; NAME.db.tar.gz is a copy)
"""
import argparse
import io
import shutil
import tarfile


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--outdated-every", type=int, required=True)
    parser.add_argument("out")
    args = parser.parse_args()
    with tarfile.open(args.out, "w:gz") as tar:
        for i in range(args.count):
            name = f"synth-{i:05d}"
            version = "0.9-1" if args.outdated_every and i % args.outdated_every == 0 else "1.0-1"
            filename = f"{name}-{version}-any.pkg.tar.zst"
            desc = (f"%FILENAME%\n{filename}\n\n%NAME%\n{name}\n\n%BASE%\n{name}\n\n%VERSION%\n{version}\n\n"
                    f"%CSIZE%\n1000\n\n%ARCH%\nany\n\n%DEPENDS%\nglibc\n\n").encode()
            info = tarfile.TarInfo(f"{name}-{version}/desc")
            info.size = len(desc)
            info.mtime = 1700000000
            tar.addfile(info, io.BytesIO(desc))
    shutil.copyfile(args.out, args.out.removesuffix(".db") + ".db.tar.gz")


if __name__ == "__main__":
    main()
