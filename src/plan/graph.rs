//! The dependency graph over pkgbases: what is reachable from the listed packages, and an
//! order in which every pkgbase comes after what it needs.
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("dependency cycle: {}", .0.join(" -> "))]
pub struct CycleError(pub Vec<String>);

pub fn reachable(roots: &BTreeSet<String>, edges: &BTreeMap<String, BTreeSet<String>>) -> BTreeSet<String> {
    let mut seen = roots.clone();
    let mut todo: Vec<&String> = roots.iter().collect();
    while let Some(base) = todo.pop() {
        for dep in edges.get(base).into_iter().flatten() {
            if seen.insert(dep.clone()) {
                todo.push(dep);
            }
        }
    }
    seen
}

/// Kahn's algorithm, alphabetical among the ready ones so plans are stable. Linear in the
/// size of the graph (it used to rescan every waiting node per step).
pub fn topological(
    nodes: &BTreeSet<String>,
    edges: &BTreeMap<String, BTreeSet<String>>,
) -> Result<Vec<String>, CycleError> {
    let mut waiting: BTreeMap<&String, usize> = BTreeMap::new();
    let mut dependants: BTreeMap<&String, Vec<&String>> = BTreeMap::new();
    for n in nodes {
        let deps: Vec<&String> = edges.get(n).into_iter().flatten().filter(|d| nodes.contains(*d)).collect();
        for d in &deps {
            dependants.entry(d).or_default().push(n);
        }
        waiting.insert(n, deps.len());
    }
    let mut ready: BTreeSet<&String> = waiting.iter().filter(|(_, c)| **c == 0).map(|(n, _)| *n).collect();
    let mut order = Vec::with_capacity(nodes.len());
    while let Some(n) = ready.pop_first() {
        waiting.remove(n);
        order.push(n.clone());
        for m in dependants.get(n).into_iter().flatten() {
            if let Some(count) = waiting.get_mut(m) {
                *count -= 1;
                if *count == 0 {
                    ready.insert(m);
                }
            }
        }
    }
    if waiting.is_empty() {
        Ok(order)
    } else {
        let stuck: BTreeSet<&String> = waiting.keys().copied().collect();
        Err(CycleError(find_cycle(&stuck, edges)))
    }
}

/// A cycle among `stuck` nodes, as a path that ends where it starts.
fn find_cycle(stuck: &BTreeSet<&String>, edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    let Some(start) = stuck.iter().next() else { return Vec::new() };
    let mut path: Vec<String> = vec![(*start).clone()];
    loop {
        let last = path.last().cloned().unwrap_or_default();
        let next = edges.get(&last).into_iter().flatten().find(|d| stuck.contains(d));
        let Some(next) = next else { return path };
        if let Some(i) = path.iter().position(|p| p == next) {
            let mut cycle = path.split_off(i);
            cycle.push(next.clone());
            return cycle;
        }
        path.push(next.clone());
    }
}
