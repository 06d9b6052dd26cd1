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
    // test), which build containers reach while they have a network, as repo.yaml allows it.
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
    let volume =
        repoctl::build::source_cache_volume(&repoctl::docker::work_dir_label(&dir.join("work-dir")), "netprobe");
    let _ = Command::new("docker").args(["volume", "rm", "-f", &volume]).output();

    let config = dir.join("repo.yaml");
    let env = [("AUR_LOCATION", aur.url.clone()), ("REPOCTL_WORK_DIR", dir.join("work-dir").to_string())];
    let write_config = |entry: &str| {
        std::fs::write(
            &config,
            format!("name: net\nbuilder:\n  image: {TESTBED_IMAGE}\n  allow_host: [{gateway}]\npackages:\n  {entry}\n"),
        )
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

/// Build containers reach neither link-local addresses (the cloud's instance metadata endpoint
/// hands out the bucket's credentials there) nor this machine's own addresses (issue 23, item
/// 5), unless repo.yaml's `allow_host` names one. A TCP server listens on every address of this
/// machine, 169.254.x.y among them (on a dummy interface, as the metadata endpoint would be
/// reachable on EC2); build() tries each, and the gateway of its own network. Only the allowed
/// address answers; the others fail with "No route to host", the guard's routes, and the
/// allowed one, reached through the gateway, shows that the default route still works.
#[test]
fn build_containers_reach_neither_link_local_addresses_nor_this_machine() {
    let Some(_docker) = docker() else { return };
    let link_local = LinkLocalAddress::add();
    let listener = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let _ = std::io::Write::write_all(&mut &stream, b"hello\n");
        }
    });
    let allowed = crate::support::bridge_gateway();
    let mut forbidden = host_ipv4_addresses();
    forbidden.retain(|a| a.to_string() != allowed);
    assert!(forbidden.contains(&link_local.address), "{forbidden:?}");
    // Without repoctl's guard, a container reaches the link-local address: the test bed works.
    let plain = Command::new("docker")
        .args(["run", "--rm", "--label", "io.repoctl.test=reach", TESTBED_IMAGE, "sh", "-c"])
        .arg(format!("timeout 5 bash -c 'exec 3<>/dev/tcp/{}/{port}'", link_local.address))
        .output()
        .unwrap();
    assert!(plain.status.success(), "a plain container cannot reach {}: {}", link_local.address, text(&plain));

    let (_t, dir) = tempdir();
    let aur = Aur::start();
    let pkg = dir.join("reach");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(pkg.join("PKGBUILD"), reach_pkgbuild(port, &forbidden, &allowed)).unwrap();
    let out = Command::new("sh")
        .arg("-c")
        .arg("chmod -R a+rwX . && su nobody -s /bin/sh -c 'makepkg --printsrcinfo' > .SRCINFO")
        .current_dir(&pkg)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    aur.push_dir("reach", &pkg);
    let config = dir.join("repo.yaml");
    std::fs::write(
        &config,
        format!("name: reach\nbuilder:\n  image: {TESTBED_IMAGE}\n  allow_host: [{allowed}]\npackages:\n  - reach\n"),
    )
    .unwrap();
    let env = [("AUR_LOCATION", aur.url.clone()), ("REPOCTL_WORK_DIR", dir.join("work").to_string())];
    let out = repoctl(&["build", "--config", config.as_str()], &env);
    let log = std::fs::read_dir(dir.join("work/runs"))
        .unwrap()
        .flatten()
        .find_map(|r| std::fs::read_to_string(r.path().join("logs/reach.log")).ok())
        .unwrap_or_default();
    assert_eq!(out.status.code(), Some(0), "{}\n--- build log\n{log}", text(&out));
    for address in forbidden.iter().map(ToString::to_string).chain(["gateway".to_string()]) {
        let line = log.lines().find(|l| l.starts_with(&format!("blocked {address} "))).unwrap_or_default();
        assert!(line.contains("No route to host"), "{address} was not blocked by a route: {line:?}\n{log}");
    }
    assert!(log.contains(&format!("reached allowed {allowed}")), "{log}");
    assert_eq!(repoctl_containers(), 0, "containers left behind");
    let networks =
        Command::new("docker").args(["network", "ls", "-q", "--filter", "label=io.repoctl.managed"]).output();
    assert_eq!(String::from_utf8_lossy(&networks.unwrap().stdout).trim(), "", "the run's network was left behind");
}

/// A PKGBUILD whose build() connects to `port` at every address of `forbidden`, at its
/// network's gateway, and at `allowed`: it prints `reached` or `blocked ADDRESS: ERROR` for
/// each, and fails if it reached a forbidden one or not the allowed one.
fn reach_pkgbuild(port: u16, forbidden: &[std::net::Ipv4Addr], allowed: &str) -> String {
    let forbidden = forbidden.iter().map(ToString::to_string).collect::<Vec<_>>().join(" ");
    format!(
        r#"pkgname=reach
pkgver=1.0
pkgrel=1
pkgdesc='build() must reach no link-local address and nothing of the host'
arch=('any')
license=('MIT')

try() {{
  err=$(timeout 5 bash -c "exec 3<>/dev/tcp/$1/{port}" 2>&1) && return 0
  echo "${{err:-timed out}}" | tail -1
  return 1
}}

build() {{
  local hex gateway bad=0
  hex=$(awk '$2 == "00000000" {{ print $3; exit }}' /proc/net/route)
  gateway=$(printf '%d.%d.%d.%d' "0x${{hex:6:2}}" "0x${{hex:4:2}}" "0x${{hex:2:2}}" "0x${{hex:0:2}}")
  for a in {forbidden} gateway; do
    target=$a
    [ "$a" = gateway ] && target=$gateway
    if why=$(try "$target"); then echo "reached $a ($target)"; bad=1; else echo "blocked $a ($target): $why"; fi
  done
  if why=$(try {allowed}); then echo "reached allowed {allowed}"; else echo "blocked allowed {allowed}: $why"; bad=1; fi
  return $bad
}}

package() {{
  install -d "$pkgdir/usr/share/reach"
}}
"#
    )
}

/// This machine's IPv4 addresses but loopback's, as `ip -4 -o addr` lists them.
fn host_ipv4_addresses() -> Vec<std::net::Ipv4Addr> {
    let out = Command::new("ip").args(["-4", "-o", "addr", "show"]).output().expect("ip(8) on this machine");
    let text = String::from_utf8_lossy(&out.stdout);
    let words = text.lines().filter_map(|l| l.split_whitespace().skip_while(|w| *w != "inet").nth(1));
    let addresses = words.filter_map(|w| w.split('/').next()?.parse::<std::net::Ipv4Addr>().ok());
    addresses.filter(|a| !a.is_loopback()).collect()
}

/// A link-local address (169.254.x.y) on an interface of its own on this machine for the length
/// of a test: what a build container would reach as the metadata endpoint. The interface is a
/// dummy one, or a bridge without ports where the kernel has no dummy driver. Needs root (or
/// sudo without a password, as on GitHub's runners); a test that cannot add it fails, saying why.
struct LinkLocalAddress {
    interface: String,
    address: std::net::Ipv4Addr,
}

impl LinkLocalAddress {
    fn add() -> LinkLocalAddress {
        let pid = std::process::id();
        let interface = format!("rctl{}", pid % 100_000);
        let address = std::net::Ipv4Addr::new(169, 254, 100 + (pid % 100) as u8, 1 + (pid / 100 % 250) as u8);
        let made = LinkLocalAddress { interface, address };
        let ip = &made.interface;
        let cidr = format!("{}/32", made.address);
        if !as_root("ip", &["link", "add", ip.as_str(), "type", "dummy"]).status.success() {
            let out = as_root("ip", &["link", "add", ip.as_str(), "type", "bridge"]);
            assert!(
                out.status.success(),
                "this test adds a dummy or bridge interface, which needs root or `sudo -n`: {}",
                text(&out)
            );
        }
        for args in [vec!["addr", "add", cidr.as_str(), "dev", ip.as_str()], vec!["link", "set", ip.as_str(), "up"]] {
            let out = as_root("ip", &args);
            assert!(
                out.status.success(),
                "this test adds {cidr} to a dummy interface, which needs root or `sudo -n`: ip {args:?}: {}",
                text(&out)
            );
        }
        made
    }
}

impl Drop for LinkLocalAddress {
    fn drop(&mut self) {
        let _ = as_root("ip", &["link", "del", &self.interface]);
    }
}

/// `program args`, as root: directly when this process is root, else through `sudo -n`.
fn as_root(program: &str, args: &[&str]) -> std::process::Output {
    let root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    let mut cmd = if root { Command::new(program) } else { Command::new("sudo") };
    if !root {
        cmd.args(["-n", program]);
    }
    cmd.args(args).output().unwrap_or_else(|e| panic!("{program}: {e}"))
}
