//! The network build containers are attached to (issue 23, item 5): a bridge network repoctl
//! creates for each run, labelled like its containers and removed with them, on which build
//! containers reach the internet and the local network but not link-local addresses (the
//! cloud's instance metadata endpoint, 169.254.169.254, hands out the instance role's
//! credentials, which are the bucket's) nor this machine's own addresses.
//!
//! repoctl talks only to the Docker API: it cannot add firewall rules on the host. It sets
//! routes inside each build container's own network namespace instead, before any package's
//! code runs there (`super::Container::exec` waits for them): a short-lived helper container
//! that shares the namespace and holds `NET_ADMIN` (the build container never does) adds
//! `unreachable` routes (netguard.sh), then is removed. The
//! default route through the bridge's gateway keeps working; only packets *to* the blocked
//! addresses are refused ("No route to host"). Containers on the network cannot reach each
//! other either (`enable_icc=false`), and Docker keeps bridge networks apart.
use super::{Docker, DockerError, api, said};
use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, ListNetworksOptionsBuilder, LogsOptionsBuilder, WaitContainerOptionsBuilder,
};
use futures_util::StreamExt;
use std::collections::{BTreeSet, HashMap};
use std::net::{IpAddr, Ipv4Addr};

/// The routes script the guard runs ([`Docker::guard`]).
const NETGUARD: &str = include_str!("netguard.sh");

/// Prints what the guard needs to know about this machine, from a container in its network
/// namespace: its IPv4 addresses (/proc/net/fib_trie), the resolvers Docker forwards DNS to
/// (/etc/resolv.conf), and whether the image has ip(8), which the guard runs.
const PROBE: &str = "cat /proc/net/fib_trie; echo REPOCTL-RESOLV-CONF; cat /etc/resolv.conf; \
command -v ip >/dev/null || { echo 'REPOCTL-NO-IP'; exit 3; }";

/// Link-local IPv4 addresses (RFC 3927): the cloud's metadata endpoints live there.
const LINK_LOCAL_V4: &str = "169.254.0.0/16";

/// A run's build network ([`Docker::create_build_network`]): only that function makes one, and
/// no command runs in a container created on it ([`super::ContainerSpec::build_network`]) before
/// the guard's routes are in place, but for [`super::Container::exec_unguarded`]'s.
#[derive(Debug)]
pub struct BuildNetwork {
    name: String,
    /// This machine's IPv4 addresses when the network was made, its gateway on it included.
    host: Vec<Ipv4Addr>,
    /// The resolvers Docker's embedded DNS forwards to, from inside the build's namespace.
    resolvers: Vec<IpAddr>,
    /// repo.yaml's `builder.allow_host`: addresses of this machine builds may reach.
    allow: Vec<IpAddr>,
}

impl BuildNetwork {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// One line for the log: what is blocked and what is not.
    pub fn describe(&self) -> String {
        let list = |a: &[Ipv4Addr]| a.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
        let mut line = format!(
            "build network {}: no route to {LINK_LOCAL_V4} (link-local) nor this machine's addresses ({}); no IPv6",
            self.name,
            list(&self.host)
        );
        if !self.allow.is_empty() {
            let allowed = self.allow.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
            line.push_str(&format!("; allowed by builder.allow_host: {allowed}"));
        }
        line
    }
}

impl Docker {
    /// Creates this run's build network, labelled as its containers are ([`Docker::labels`]),
    /// and learns from one container of `image` (the builder image, or an image made from it) in
    /// the host's network namespace what the guard must block: this machine's IPv4 addresses,
    /// and the resolvers that must stay reachable.
    /// `allow`: addresses the guard leaves reachable (repo.yaml's `builder.allow_host`).
    /// Remove it with [`Docker::remove_run_networks`] once the run's containers are gone.
    /// Errors: the daemon refuses, or `image` has no ip(8) (the network is removed again).
    pub async fn create_build_network(&self, image: &str, allow: &[IpAddr]) -> Result<BuildNetwork, DockerError> {
        let name = format!("repoctl-{}", super::container::sanitize(&self.run_id));
        let request = bollard::models::NetworkCreateRequest {
            name: name.clone(),
            driver: Some("bridge".into()),
            enable_ipv6: Some(false),
            options: Some(HashMap::from([("com.docker.network.bridge.enable_icc".into(), "false".into())])),
            labels: Some(self.labels("build-network")),
            ..Default::default()
        };
        let (created, probed) = tokio::join!(self.client.create_network(request), self.probe_host(image));
        let id = created.map_err(api("create network"))?.id;
        let made = async {
            let (mut host, resolvers) = probed?;
            host.extend(self.gateways(Some(&id)).await?);
            Ok(BuildNetwork { name, host: dedup(host), resolvers, allow: allow.to_vec() })
        };
        match made.await {
            Ok(network) => Ok(network),
            Err(e) => {
                let _ = self.remove_network(&id).await;
                Err(e)
            }
        }
    }

    /// This machine's IPv4 addresses and resolvers, read in a container of `image` in the
    /// host's network namespace. Errors: the daemon refuses, or the image has no ip(8).
    async fn probe_host(&self, image: &str) -> Result<(Vec<Ipv4Addr>, Vec<IpAddr>), DockerError> {
        let cmd = vec!["sh".to_string(), "-c".to_string(), PROBE.to_string()];
        let (code, output) = self.run_once("probe-host", image, "host", &[], cmd).await?;
        let (fib_trie, resolv) = output.split_once("REPOCTL-RESOLV-CONF").unwrap_or((&output, ""));
        match code {
            0 => Ok((local_ipv4(fib_trie), nameservers(resolv))),
            3 => Err(DockerError::Guard(format!(
                "the builder image {image} has no ip(8) (iproute2), which sets build containers' routes"
            ))),
            code => Err(DockerError::Guard(format!("reading this machine's addresses exited with {code}: {output}"))),
        }
    }

    /// The gateways of the Docker networks there are now (this machine's addresses on them),
    /// or of the network `id` only.
    async fn gateways(&self, id: Option<&str>) -> Result<Vec<Ipv4Addr>, DockerError> {
        let filters = HashMap::from([("id".to_string(), id.map(|i| vec![i.to_string()]).unwrap_or_default())]);
        let filters: HashMap<String, Vec<String>> = filters.into_iter().filter(|(_, v)| !v.is_empty()).collect();
        let options = ListNetworksOptionsBuilder::default().filters(&filters).build();
        let networks = self.client.list_networks(Some(options)).await.map_err(api("list networks"))?;
        let configs = networks.into_iter().filter_map(|n| n.ipam?.config).flatten();
        Ok(configs.filter_map(|c| c.gateway?.parse().ok()).collect())
    }

    /// Sets the guard's routes in the network namespace of `container` (created on `network`,
    /// started, nothing of a package's run in it yet): a helper container of `image` (the
    /// container's own, which has ip(8) as the builder image has) that joins the namespace with
    /// `NET_ADMIN`, runs netguard.sh and is removed. The gateways of Docker networks made since
    /// the network was are blocked too. Errors: the daemon refuses, or the script fails (its
    /// output is in the error).
    pub(super) async fn guard(&self, container: &str, image: &str, network: &BuildNetwork) -> Result<(), DockerError> {
        let mut host = network.host.clone();
        host.extend(self.gateways(None).await?);
        let routes = routes(&dedup(host), &network.resolvers, &network.allow);
        let mut cmd = vec!["sh".to_string(), "-c".to_string(), NETGUARD.to_string(), "netguard".to_string()];
        cmd.extend(routes);
        let mode = format!("container:{container}");
        let (code, output) = self.run_once("netguard", image, &mode, &["NET_ADMIN"], cmd).await?;
        match code {
            0 => Ok(()),
            code => {
                Err(DockerError::Guard(format!("setting the build container's routes exited with {code}: {output}")))
            }
        }
    }

    /// Runs `cmd` in a fresh container of `image` with `network_mode`, holding only `caps`, to
    /// its end; returns its exit code and output, the container removed whatever happened.
    async fn run_once(
        &self,
        purpose: &str,
        image: &str,
        network_mode: &str,
        caps: &[&str],
        cmd: Vec<String>,
    ) -> Result<(i64, String), DockerError> {
        let host_config = HostConfig {
            network_mode: Some(network_mode.to_string()),
            cap_drop: Some(vec!["ALL".to_string()]),
            cap_add: Some(caps.iter().map(|c| c.to_string()).collect()),
            security_opt: Some(vec!["no-new-privileges:true".to_string()]),
            pids_limit: Some(64),
            ..Default::default()
        };
        let body = ContainerCreateBody {
            image: Some(image.to_string()),
            user: Some("root".into()),
            cmd: Some(cmd),
            labels: Some(self.labels(purpose)),
            host_config: Some(host_config),
            ..Default::default()
        };
        let options = CreateContainerOptionsBuilder::default().name(&self.container_name(purpose)).build();
        let t = std::time::Instant::now();
        let id = self.client.create_container(Some(options), body).await.map_err(api("create container"))?.id;
        let created = t.elapsed().as_secs_f64();
        let ran = self.start_and_wait(&id).await;
        let waited = t.elapsed().as_secs_f64();
        let removed = self.remove_container(&id).await;
        tracing::debug!(
            "{purpose}: created {created:.3} s, ran {:.3} s, removed {:.3} s",
            waited - created,
            t.elapsed().as_secs_f64() - waited
        );
        let ran = ran?;
        removed.map(|()| ran)
    }

    /// Starts container `id` and waits (up to a minute) for it to exit: its exit code and output.
    async fn start_and_wait(&self, id: &str) -> Result<(i64, String), DockerError> {
        self.client.start_container(id, None).await.map_err(api("start container"))?;
        let options = WaitContainerOptionsBuilder::default().condition("not-running").build();
        let mut wait = self.client.wait_container(id, Some(options));
        let waited = tokio::time::timeout(std::time::Duration::from_secs(60), wait.next()).await;
        let code = match waited {
            Err(_) => return Err(DockerError::Guard(format!("container {id} did not finish within 60 s"))),
            Ok(Some(Ok(response))) => response.status_code,
            Ok(Some(Err(bollard::errors::Error::DockerContainerWaitError { code, .. }))) => code,
            Ok(Some(Err(e))) => return Err(api("wait for container")(e)),
            Ok(None) => return Err(DockerError::Api { op: "wait for container", source: said("no answer") }),
        };
        let options = LogsOptionsBuilder::default().stdout(true).stderr(true).build();
        let mut logs = self.client.logs(id, Some(options));
        let mut output = Vec::new();
        while let Some(chunk) = logs.next().await {
            output.extend_from_slice(&chunk.map_err(api("read container logs"))?.into_bytes());
        }
        Ok((code, String::from_utf8_lossy(&output).into_owned()))
    }

    /// Removes a network; Ok(false) when a container is still connected to it (the daemon
    /// answers 403 "has active endpoints"), Ok(true) when it is gone.
    pub async fn remove_network(&self, id: &str) -> Result<bool, DockerError> {
        match self.client.remove_network(id).await {
            Ok(()) | Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => Ok(true),
            Err(bollard::errors::Error::DockerResponseServerError { status_code: 403 | 409, .. }) => Ok(false),
            Err(e) => Err(api("remove network")(e)),
        }
    }

    /// Removes this run's networks in the background, once the containers still connected to them
    /// are gone (their removals were started; up to a minute): call when the run's builds are
    /// done, so that the removal goes on while the run publishes. [`super::finish_removals`]
    /// waits for it and reports a failure.
    pub fn remove_run_networks_soon(&self) {
        let docker = self.clone();
        let removal = tokio::spawn(async move {
            for _ in 0..600 {
                if docker.remove_run_networks().await? == 0 {
                    return Ok(());
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Err(DockerError::Limit(format!("a network of run {} was still in use after a minute", docker.run_id)))
        });
        super::container::remove_in_background_task(removal);
    }

    /// Removes this run's networks (call once its containers are gone); returns how many stay
    /// because a container is still connected (`repoctl clean` removes them later).
    pub async fn remove_run_networks(&self) -> Result<usize, DockerError> {
        let filters = HashMap::from([("label".to_string(), self.run_filters())]);
        let options = ListNetworksOptionsBuilder::default().filters(&filters).build();
        let networks = self.client.list_networks(Some(options)).await.map_err(api("list networks"))?;
        let mut kept = 0;
        for id in networks.into_iter().filter_map(|n| n.id) {
            if !self.remove_network(&id).await? {
                kept += 1;
            }
        }
        Ok(kept)
    }
}

/// The routes netguard.sh sets, one argument each: link-local IPv4 unreachable, and each of
/// `host` (this machine's addresses) that is neither loopback, nor link-local (already
/// covered), nor in `allow`, nor a resolver; a link-local resolver (EC2's 169.254.169.253)
/// stays reachable through the gateway.
fn routes(host: &[Ipv4Addr], resolvers: &[IpAddr], allow: &[IpAddr]) -> Vec<String> {
    let mut routes = vec![format!("unreachable:{LINK_LOCAL_V4}")];
    let spared = |a: &Ipv4Addr| allow.contains(&IpAddr::V4(*a)) || resolvers.contains(&IpAddr::V4(*a));
    for a in host.iter().filter(|a| !a.is_loopback() && !a.is_link_local() && !spared(a)) {
        routes.push(format!("unreachable:{a}/32"));
    }
    for r in resolvers {
        if let IpAddr::V4(r) = r
            && r.is_link_local()
        {
            routes.push(format!("via:{r}/32"));
        }
    }
    routes
}

/// The addresses of the `/32 host LOCAL` entries of /proc/net/fib_trie (proc(5)): the IPv4
/// addresses of this network namespace, loopback's left out, sorted and without repeats. Each
/// entry is a line `|-- ADDRESS` followed by a line `/32 host LOCAL`.
fn local_ipv4(fib_trie: &str) -> Vec<Ipv4Addr> {
    let lines: Vec<&str> = fib_trie.lines().map(str::trim).collect();
    let found = lines.windows(2).filter(|w| w[1] == "/32 host LOCAL");
    let found = found.filter_map(|w| w[0].strip_prefix("|-- ")?.parse::<Ipv4Addr>().ok());
    dedup(found.filter(|a| !a.is_loopback()).collect())
}

/// The `nameserver` addresses of a resolv.conf(5), loopback ones left out (Docker's DNS asks
/// those from the host's own namespace).
fn nameservers(resolv_conf: &str) -> Vec<IpAddr> {
    let servers = resolv_conf.lines().filter_map(|l| l.trim().strip_prefix("nameserver")?.trim().parse().ok());
    servers.filter(|a: &IpAddr| !a.is_loopback()).collect()
}

fn dedup(addresses: Vec<Ipv4Addr>) -> Vec<Ipv4Addr> {
    addresses.into_iter().collect::<BTreeSet<_>>().into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Part of this machine's /proc/net/fib_trie (Main and Local list the same entries).
    const FIB_TRIE: &str = "Main:\n  +-- 0.0.0.0/0 3 0 4\n     |-- 0.0.0.0\n        /0 universe UNICAST\n\
     +-- 127.0.0.0/8 2 0 2\n        +-- 127.0.0.0/31 1 0 0\n           |-- 127.0.0.0\n              /8 host LOCAL\n\
           |-- 127.0.0.1\n              /32 host LOCAL\n        |-- 127.255.255.255\n           /32 link BROADCAST\n\
     +-- 172.17.0.0/16 2 0 2\n           |-- 172.17.0.0\n              /16 link UNICAST\n\
           |-- 172.17.0.1\n              /32 host LOCAL\n        |-- 172.17.255.255\n           /32 link BROADCAST\n\
           |-- 192.0.2.2\n              /32 host LOCAL\nLocal:\n           |-- 192.0.2.2\n              /32 host LOCAL\n";

    #[test]
    fn the_machines_addresses_are_read_from_the_fib_trie() {
        assert_eq!(local_ipv4(FIB_TRIE), ["172.17.0.1".parse::<Ipv4Addr>().unwrap(), "192.0.2.2".parse().unwrap()]);
        assert_eq!(local_ipv4(""), Vec::<Ipv4Addr>::new());
    }

    #[test]
    fn resolvers_are_the_nameserver_lines_but_loopback() {
        let conf = "# generated\nnameserver 10.0.0.2\nnameserver 127.0.0.53\nnameserver  169.254.169.253\n\
search ec2.internal\nnameserver fd00:ec2::253\n";
        let want: Vec<IpAddr> = ["10.0.0.2", "169.254.169.253", "fd00:ec2::253"].map(|a| a.parse().unwrap()).into();
        assert_eq!(nameservers(conf), want);
    }

    #[test]
    fn routes_block_link_local_and_the_machine_but_spare_resolvers_and_allowed() {
        let v4 = |a: &str| a.parse::<Ipv4Addr>().unwrap();
        let ip = |a: &str| a.parse::<IpAddr>().unwrap();
        let host = [v4("10.0.0.5"), v4("127.0.0.1"), v4("169.254.3.4"), v4("172.17.0.1"), v4("172.18.0.1")];
        let resolvers = [ip("10.0.0.5"), ip("169.254.169.253")];
        let routes = routes(&host, &resolvers, &[ip("172.17.0.1")]);
        assert_eq!(
            routes,
            ["unreachable:169.254.0.0/16", "unreachable:172.18.0.1/32", "via:169.254.169.253/32"],
            "10.0.0.5 is a resolver, 172.17.0.1 allowed, 127.0.0.1 and 169.254.3.4 covered"
        );
    }
}
