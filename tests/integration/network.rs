//! `network: offline-build` (issue #5): sources are fetched with the network, then prepare(),
//! build() and package() run in a container cut off every network.
use crate::support::{Aur, Pacman, TESTBED_IMAGE, docker, repoctl, repoctl_containers, tempdir, text};
use std::process::Command;

#[test]
fn offline_build_fetches_sources_with_the_network_and_builds_without_it() {
    let Some(_docker) = docker() else { return };
    let sh = |dir: &camino::Utf8Path, script: &str| {
        let out = Command::new("sh").arg("-c").arg(script).current_dir(dir).output().unwrap();
        assert!(out.status.success(), "{script}: {}", text(&out));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let (_t, dir) = tempdir();
    // Upstream: a git repository served over HTTP on the Docker bridge's gateway (as in the VCS
    // test), which build containers reach while they have a network.
    let gateway = crate::support::bridge_gateway();
    let served = dir.join("served");
    std::fs::create_dir_all(&served).unwrap();
    sh(
        &dir,
        &format!(
            "git init -q --bare --initial-branch=main {served}/upstream.git && git clone -q {served}/upstream.git work"
        ),
    );
    let publish = |data: &str| {
        sh(
            &dir.join("work"),
            &format!(
                "echo {data} > DATA && git add DATA && git -c user.name=u -c user.email=u@example.org commit -q -m {data} \
                 && git push -q origin HEAD:main && git -C {served}/upstream.git update-server-info"
            ),
        );
    };
    publish("first-upstream-commit");
    let port = std::net::TcpListener::bind("0.0.0.0:0").unwrap().local_addr().unwrap().port();
    let mut http = Command::new("python3")
        .args(["-m", "http.server", "--bind", "0.0.0.0", &port.to_string(), "--directory", served.as_str()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() && started.elapsed().as_secs() < 10 {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }

    // build() fails when it can open a TCP connection to the same server.
    let aur = Aur::start();
    let pkg = dir.join("netprobe");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(
        pkg.join("PKGBUILD"),
        format!(
            "pkgname=netprobe\npkgver=1.0\npkgrel=1\npkgdesc='build() must not reach the network'\narch=('any')\n\
license=('MIT')\nmakedepends=('git')\nsource=(\"upstream::git+http://{gateway}:{port}/upstream.git#branch=main\")\n\
sha256sums=('SKIP')\n\n\
build() {{\n  if timeout 5 bash -c 'exec 3<>/dev/tcp/{gateway}/{port}' 2>/dev/null; then\n\
    echo 'build() reached {gateway}:{port}'\n    return 1\n  fi\n  echo 'build() found no network'\n}}\n\n\
package() {{\n  install -Dm644 upstream/DATA \"$pkgdir/usr/share/netprobe/DATA\"\n}}\n"
        ),
    )
    .unwrap();
    sh(&pkg, "chmod -R a+rwX . && su nobody -s /bin/sh -c 'makepkg --printsrcinfo' > .SRCINFO");
    aur.push_dir("netprobe", &pkg);
    let volume = repoctl::build::source_cache_volume("netprobe");
    let _ = Command::new("docker").args(["volume", "rm", "-f", &volume]).output();

    let config = dir.join("repo.yaml");
    let env = [("AUR_LOCATION", aur.url.clone()), ("REPOCTL_WORK_DIR", dir.join("work-dir").to_string())];
    let write_config = |entry: &str| {
        std::fs::write(&config, format!("name: net\nbuilder:\n  image: {TESTBED_IMAGE}\npackages:\n  {entry}\n"))
            .unwrap()
    };

    // The default (`on`): build() has the network, so the probe works and the build fails.
    write_config("- netprobe");
    let out = repoctl(&["build", "--config", config.as_str()], &env);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains(&format!("build() reached {gateway}:{port}")), "{}", text(&out));

    // offline-build, with a new upstream commit: the fetch phase gets it over the network, the
    // build finds none.
    publish("second-upstream-commit");
    write_config("- {name: netprobe, network: offline-build}");
    let out = repoctl(&["build", "--config", config.as_str()], &env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let log = std::fs::read_dir(dir.join("work-dir/runs"))
        .unwrap()
        .flatten()
        .filter_map(|r| std::fs::read_to_string(r.path().join("logs/netprobe.log")).ok())
        .find(|l| l.contains("fetching sources"))
        .expect("the offline-build log");
    assert!(log.contains("network off for the build"), "{log}");
    assert!(log.contains("build() found no network"), "{log}");
    let pacman = Pacman::new("net", &format!("file://{}", dir.join("repo")));
    let install = pacman.run(&["-S", "--noconfirm", "--refresh", "netprobe"]);
    assert!(install.status.success(), "{}", text(&install));
    let data = std::fs::read_to_string(pacman.installed_file("usr/share/netprobe/DATA")).unwrap();
    assert_eq!(data.trim(), "second-upstream-commit", "the fetch phase did not reach upstream");
    assert_eq!(repoctl_containers(), 0, "containers left behind");

    let _ = http.kill();
    let _ = http.wait();
    let _ = Command::new("docker").args(["volume", "rm", "-f", &volume]).output();
}
