//! One request's span tree: its root (the service's span whose parent is
//! genbench's) and every descendant that had arrived, and what it says:
//! each stage's time on the critical path and the root's own time.

use std::collections::HashMap;

use super::span::Span;

/// Deeper nesting than this is cut: a span below it counts as a leaf of
/// the last level kept, so a malicious or broken tree cannot recurse
/// without bound.
pub const MAX_DEPTH: usize = 128;

/// The tree of `root` (an index into `spans`) as children lists.
pub struct Tree<'a> {
    pub spans: &'a [Span],
    pub root: usize,
    children: HashMap<u64, Vec<usize>>,
}

/// What the critical path of one request says.
#[derive(Debug, Default, PartialEq)]
pub struct Path {
    /// Time on the path by stage index (the root's own time excluded).
    pub by_stage: Vec<(u16, u64)>,
    /// The root's own time on the path, ns.
    pub root_self_ns: u64,
}

impl<'a> Tree<'a> {
    /// Builds the tree of `spans[root]` from the spans of its trace.
    pub fn new(spans: &'a [Span], root: usize) -> Tree<'a> {
        let mut children: HashMap<u64, Vec<usize>> = HashMap::new();
        for (i, s) in spans.iter().enumerate() {
            if i != root && s.parent != 0 {
                children.entry(s.parent).or_default().push(i);
            }
        }
        Tree {
            spans,
            root,
            children,
        }
    }

    /// The indices of the root and its descendants, depth first, with
    /// their depths; children in start order.
    pub fn members(&self) -> Vec<(usize, u32)> {
        let mut out = Vec::new();
        let mut stack = vec![(self.root, 0u32)];
        while let Some((i, d)) = stack.pop() {
            out.push((i, d));
            if d as usize >= MAX_DEPTH {
                continue;
            }
            let mut kids = self.kids(i);
            kids.sort_by_key(|&k| std::cmp::Reverse(self.spans[k].start_ns));
            stack.extend(kids.into_iter().map(|k| (k, d + 1)));
        }
        out
    }

    fn kids(&self, i: usize) -> Vec<usize> {
        let id = self.spans[i].id;
        self.children
            .get(&id)
            .map(|v| {
                v.iter()
                    .copied()
                    .filter(|&k| self.spans[k].id != id)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The critical path: from the root's end backwards, the child that
    /// ended last before the current instant holds the path from its end
    /// back to its start (recursively); gaps between are the parent's own
    /// time. Children outside the parent's interval are clipped to it.
    pub fn critical_path(&self) -> Path {
        let mut acc: HashMap<u16, u64> = HashMap::new();
        let mut path = Path::default();
        let root = &self.spans[self.root];
        // (span, the interval of the path it holds, depth)
        let mut work = vec![(self.root, root.start_ns, root.end_ns, 0usize)];
        while let Some((i, from, until, depth)) = work.pop() {
            let s = &self.spans[i];
            let own = self.walk(i, (from, until), depth, &mut work);
            if i == self.root {
                path.root_self_ns += own;
            } else {
                *acc.entry(s.stage).or_default() += own;
            }
        }
        let mut by_stage: Vec<(u16, u64)> = acc.into_iter().collect();
        by_stage.sort_unstable();
        path.by_stage = by_stage;
        path
    }

    /// Walks span `i`'s part of the path, `(from, until)`: pushes the
    /// children on it for later and returns `i`'s own time on it. A child
    /// is on it if it ended (clipped to its parent's end) by the current
    /// instant; one still running then is not, as in Jaeger's analysis.
    fn walk(
        &self,
        i: usize,
        (from, until): (u64, u64),
        depth: usize,
        work: &mut Vec<(usize, u64, u64, usize)>,
    ) -> u64 {
        let s = &self.spans[i];
        let start = from.max(s.start_ns);
        let end = until.min(s.end_ns);
        let mut t = end.max(start);
        let mut own = 0;
        if depth < MAX_DEPTH {
            let mut kids = self.kids(i);
            kids.sort_by_key(|&k| std::cmp::Reverse(self.spans[k].end_ns));
            for k in kids {
                if t <= start {
                    break;
                }
                let c = &self.spans[k];
                let c_end = c.end_ns.min(end);
                let c_start = c.start_ns.max(start);
                if c_end > t || c_end <= c_start {
                    continue;
                }
                own += t - c_end;
                work.push((k, c_start, c_end, depth + 1));
                t = c_start;
            }
        }
        own + t.saturating_sub(start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(id: u64, parent: u64, stage: u16, start_ms: u64, end_ms: u64) -> Span {
        Span {
            id,
            parent,
            stage,
            start_ns: start_ms * 1_000_000,
            end_ns: end_ms * 1_000_000,
            ..Span::default()
        }
    }

    #[test]
    fn parallel_children_count_once_on_the_path() {
        // root 0-100 ms: search 5-20, three fetches 20-50, 22-60, 21-55,
        // llm 65-95.
        let spans = vec![
            span(1, 99, 0, 0, 100),
            span(2, 1, 1, 5, 20),
            span(3, 1, 2, 20, 50),
            span(4, 1, 2, 22, 60),
            span(5, 1, 2, 21, 55),
            span(6, 1, 3, 65, 95),
        ];
        let p = Tree::new(&spans, 0).critical_path();
        let ms = |ns: u64| ns / 1_000_000;
        let got: Vec<(u16, u64)> = p.by_stage.iter().map(|&(s, ns)| (s, ms(ns))).collect();
        // The path: llm 30, fetch (the one ending at 60, from 22) 38,
        // search 15; the root's own: 5 + 2 + 5 + 5 = 17.
        assert_eq!(got, [(1, 15), (2, 38), (3, 30)]);
        assert_eq!(ms(p.root_self_ns), 17);
        let total: u64 = p.by_stage.iter().map(|x| x.1).sum::<u64>() + p.root_self_ns;
        assert_eq!(ms(total), 100, "the path covers the root exactly");
    }

    #[test]
    fn nested_spans_give_their_time_to_the_deepest() {
        // chat 10-90 holds an HTTP client span 12-88.
        let spans = vec![
            span(1, 99, 0, 0, 100),
            span(2, 1, 5, 10, 90),
            span(3, 2, 6, 12, 88),
        ];
        let p = Tree::new(&spans, 0).critical_path();
        let got: Vec<(u16, u64)> = p
            .by_stage
            .iter()
            .map(|&(s, ns)| (s, ns / 1_000_000))
            .collect();
        assert_eq!(got, [(5, 4), (6, 76)]);
        assert_eq!(p.root_self_ns / 1_000_000, 20);
        let m = Tree::new(&spans, 0).members();
        assert_eq!(m, [(0, 0), (1, 1), (2, 2)]);
    }

    #[test]
    fn children_outside_the_parent_are_clipped_and_cycles_end() {
        // A child that starts before its parent (clock skew) and one that
        // ends after it; a span that names itself as parent.
        let spans = vec![
            span(1, 99, 0, 10, 50),
            span(2, 1, 1, 5, 20),
            span(3, 1, 2, 40, 70),
            span(4, 4, 3, 0, 100),
        ];
        let p = Tree::new(&spans, 0).critical_path();
        let got: Vec<(u16, u64)> = p
            .by_stage
            .iter()
            .map(|&(s, ns)| (s, ns / 1_000_000))
            .collect();
        assert_eq!(got, [(1, 10), (2, 10)]);
        assert_eq!(p.root_self_ns / 1_000_000, 20);
    }

    #[test]
    fn absurd_nesting_is_cut() {
        let n = 10_000u64;
        let spans: Vec<Span> = (0..n)
            .map(|i| span(i + 1, if i == 0 { 99 } else { i }, 1, i, 2 * n - i))
            .collect();
        let t = Tree::new(&spans, 0);
        assert_eq!(t.members().len(), MAX_DEPTH + 1);
        let p = t.critical_path();
        let total: u64 = p.by_stage.iter().map(|x| x.1).sum::<u64>() + p.root_self_ns;
        assert_eq!(total, 2 * n * 1_000_000);
    }
}
