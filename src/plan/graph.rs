//! The dependency graph over pkgbases: what is reachable from the listed packages, its
//! dependency cycles, and an order in which every pkgbase comes after what it needs outside
//! its own cycle.
//!
//! A cycle is a strongly connected component of more than one pkgbase (Tarjan's algorithm,
//! written iteratively so that a long chain cannot overflow the stack). A cycle is a problem of
//! its members, never of the run (issue 24): [`order`] always returns an order, and the plan
//! decides what the cycles block.
use std::collections::{BTreeMap, BTreeSet, VecDeque};

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

/// The graph over some pkgbases, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ordered {
    /// Every pkgbase after what it needs, except what it needs within its own cycle;
    /// alphabetical among the ready ones, so plans are stable.
    pub order: Vec<String>,
    /// Every cycle, as a closed walk along the dependencies that passes through each of its
    /// members ([`walk`]), ordered by its first member.
    pub cycles: Vec<Vec<String>>,
}

/// Orders `nodes` (edges to pkgbases outside `nodes` are left out) and names their cycles.
/// Kahn's algorithm over the components: a cycle's members come together, after everything
/// any of them needs outside the cycle. Linear in the size of the graph.
pub fn order(nodes: &BTreeSet<String>, edges: &BTreeMap<String, BTreeSet<String>>) -> Ordered {
    let component = components(nodes, edges);
    let mut members: BTreeMap<usize, BTreeSet<&String>> = BTreeMap::new();
    let mut needs: BTreeMap<usize, BTreeSet<usize>> = BTreeMap::new();
    for (n, c) in &component {
        members.entry(*c).or_default().insert(*n);
        let deps = edges.get(*n).into_iter().flatten().filter_map(|d| component.get(d));
        needs.entry(*c).or_default().extend(deps.filter(|d| *d != c));
    }
    let mut dependants: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    let mut waiting: BTreeMap<usize, usize> = BTreeMap::new();
    for (c, deps) in &needs {
        for d in deps {
            dependants.entry(*d).or_default().push(*c);
        }
        waiting.insert(*c, deps.len());
    }
    // Ready components by their first member's name, so plans are stable.
    let first = |c: &usize| members[c].first().copied();
    let mut ready: BTreeSet<(&String, usize)> =
        waiting.iter().filter(|(_, n)| **n == 0).filter_map(|(c, _)| Some((first(c)?, *c))).collect();
    let mut order = Vec::with_capacity(nodes.len());
    while let Some((_, c)) = ready.pop_first() {
        order.extend(members[&c].iter().map(|n| (*n).clone()));
        for d in dependants.get(&c).into_iter().flatten() {
            let Some(count) = waiting.get_mut(d) else { continue };
            *count -= 1;
            if let (0, Some(name)) = (*count, first(d)) {
                ready.insert((name, *d));
            }
        }
    }
    let mut cycles: Vec<Vec<String>> = members.values().filter(|m| m.len() > 1).map(|m| walk(m, edges)).collect();
    cycles.sort();
    Ordered { order, cycles }
}

/// pkgbase -> the number of its strongly connected component (Tarjan's algorithm, iterative).
fn components<'a>(
    nodes: &'a BTreeSet<String>,
    edges: &'a BTreeMap<String, BTreeSet<String>>,
) -> BTreeMap<&'a String, usize> {
    let mut t = Tarjan::default();
    for root in nodes {
        if t.index.contains_key(root) {
            continue;
        }
        // (pkgbase, its dependencies, how many of them were looked at): the recursion's stack.
        let mut calls: Vec<(&String, Vec<&String>, usize)> = Vec::new();
        t.enter(root, nodes, edges, &mut calls);
        while let Some((n, deps, i)) = calls.last_mut() {
            let n = *n;
            if let Some(&d) = deps.get(*i) {
                *i += 1;
                if !t.index.contains_key(d) {
                    t.enter(d, nodes, edges, &mut calls);
                } else if t.on_stack.contains(d) {
                    t.low.insert(n, t.low[n].min(t.index[d]));
                }
                continue;
            }
            calls.pop();
            if let Some((parent, _, _)) = calls.last() {
                t.low.insert(parent, t.low[parent].min(t.low[n]));
            }
            if t.low[n] == t.index[n] {
                t.close(n);
            }
        }
    }
    t.component
}

/// The state of Tarjan's algorithm.
#[derive(Default)]
struct Tarjan<'a> {
    index: BTreeMap<&'a String, usize>,
    low: BTreeMap<&'a String, usize>,
    stack: Vec<&'a String>,
    on_stack: BTreeSet<&'a String>,
    component: BTreeMap<&'a String, usize>,
}

impl<'a> Tarjan<'a> {
    /// Visits `n`: numbers it, and calls on its dependencies next.
    fn enter(
        &mut self,
        n: &'a String,
        nodes: &'a BTreeSet<String>,
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        calls: &mut Vec<(&'a String, Vec<&'a String>, usize)>,
    ) {
        let number = self.index.len();
        self.index.insert(n, number);
        self.low.insert(n, number);
        self.stack.push(n);
        self.on_stack.insert(n);
        calls.push((n, edges.get(n).into_iter().flatten().filter(|d| nodes.contains(*d)).collect(), 0));
    }

    /// `n` is the root of a component: what is above it on the stack is that component.
    fn close(&mut self, n: &'a String) {
        let number = self.component.len();
        while let Some(m) = self.stack.pop() {
            self.on_stack.remove(m);
            self.component.insert(m, number);
            if m == n {
                break;
            }
        }
    }
}

/// A cycle's members as one closed walk along the dependencies: from the first member (by
/// name), on to the nearest member not passed yet (breadth first, dependencies by name), and
/// back to the first. A simple ring `a -> b -> c -> a` is itself; `a <-> b` and `a <-> c` are
/// `a -> b -> a -> c -> a`.
fn walk(members: &BTreeSet<&String>, edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    let Some(&start) = members.first() else { return Vec::new() };
    let mut path = vec![start.clone()];
    let mut passed: BTreeSet<&String> = BTreeSet::from([start]);
    let mut here = start;
    while passed.len() < members.len() {
        let Some(route) = shortest(here, |m| !passed.contains(m), members, edges) else { break };
        passed.extend(route.iter().copied());
        here = route.last().copied().unwrap_or(here);
        path.extend(route.into_iter().cloned());
    }
    if let Some(route) = shortest(here, |m| m == start, members, edges) {
        path.extend(route.into_iter().cloned());
    }
    path
}

/// The shortest route within `members` from `from` to a member `goal` accepts (not counting
/// `from`); None when there is none.
fn shortest<'a>(
    from: &'a String,
    goal: impl Fn(&String) -> bool,
    members: &BTreeSet<&'a String>,
    edges: &'a BTreeMap<String, BTreeSet<String>>,
) -> Option<Vec<&'a String>> {
    let mut came_from: BTreeMap<&String, &String> = BTreeMap::new();
    let mut todo: VecDeque<&String> = VecDeque::from([from]);
    while let Some(n) = todo.pop_front() {
        for d in edges.get(n).into_iter().flatten().filter(|d| members.contains(d)) {
            if came_from.contains_key(d) || d == from {
                if d == from && goal(d) {
                    came_from.insert(d, n);
                    return Some(route_to(d, from, &came_from));
                }
                continue;
            }
            came_from.insert(d, n);
            if goal(d) {
                return Some(route_to(d, from, &came_from));
            }
            todo.push_back(d);
        }
    }
    None
}

/// The route that ends at `to`, read back through `came_from` to `from` (which it leaves out).
fn route_to<'a>(to: &'a String, from: &'a String, came_from: &BTreeMap<&'a String, &'a String>) -> Vec<&'a String> {
    let mut route = vec![to];
    let mut n = came_from[to];
    while n != from {
        route.push(n);
        n = came_from[n];
    }
    route.reverse();
    route
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(pairs: &[(&str, &[&str])]) -> (BTreeSet<String>, BTreeMap<String, BTreeSet<String>>) {
        let edges: BTreeMap<String, BTreeSet<String>> =
            pairs.iter().map(|(n, deps)| (n.to_string(), deps.iter().map(|d| d.to_string()).collect())).collect();
        (edges.keys().cloned().collect(), edges)
    }

    #[test]
    fn an_acyclic_graph_is_ordered_with_no_cycle() {
        let (nodes, edges) = graph(&[("app", &["lib", "glue"]), ("glue", &["lib"]), ("lib", &[])]);
        let o = order(&nodes, &edges);
        assert_eq!(o.order, ["lib", "glue", "app"]);
        assert!(o.cycles.is_empty());
    }

    #[test]
    fn cycles_are_named_and_the_rest_is_ordered_around_them() {
        let (nodes, edges) = graph(&[
            ("app", &["x"]),
            ("x", &["y"]),
            ("y", &["z"]),
            ("z", &["x", "base"]),
            ("base", &[]),
            ("p", &["q"]),
            ("q", &["p"]),
        ]);
        let o = order(&nodes, &edges);
        assert_eq!(o.cycles, [vec!["p", "q", "p"], vec!["x", "y", "z", "x"]]);
        let pos = |b: &str| o.order.iter().position(|n| n == b).unwrap();
        assert_eq!(o.order.len(), nodes.len(), "{:?}", o.order);
        assert!(pos("base") < pos("z") && pos("x") < pos("app") && pos("z") < pos("app"), "{:?}", o.order);
    }

    #[test]
    fn a_long_chain_does_not_overflow_the_stack() {
        let names: Vec<String> = (0..200_000).map(|i| format!("p{i:06}")).collect();
        let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for w in names.windows(2) {
            edges.insert(w[0].clone(), BTreeSet::from([w[1].clone()]));
        }
        edges.insert(names[names.len() - 1].clone(), BTreeSet::from([names[0].clone()]));
        let nodes: BTreeSet<String> = names.iter().cloned().collect();
        let o = order(&nodes, &edges);
        assert_eq!(o.cycles.len(), 1);
        assert_eq!(o.cycles[0].len(), names.len() + 1);
    }
}
