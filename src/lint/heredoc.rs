//! Here-documents, found the way BuildKit's parser finds them (`frontend/dockerfile/parser`):
//! after the logical line of a `RUN`, `COPY` or `ADD` (also under `ONBUILD`, never in JSON form),
//! every word of the form `[fd]<<[-]WORD` opens a here-document whose body is the following lines
//! up to a line equal to `WORD` (leading tabs stripped for `<<-`).
//!
//! parse-dockerfile 0.1.9 reads a here-document only when `<<` starts the command and only one per
//! instruction (`RUN python3 <<EOF` and `COPY <<A <<B /dst` are beyond it). So we find them here and
//! give the parser a copy of the text where each marker's `<<` and each body line are masked
//! (bodies become comment lines of the same length), keeping every byte offset; the syntax layer
//! then attaches the here-documents to their instructions.

use std::ops::Range;

use super::source::Source;
use super::syntax::SyntaxError;

/// One here-document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Found {
    /// The marker word (`<<EOF`, `<<-"EOT"`) in the source.
    pub marker: Range<usize>,
    /// The body, terminator excluded.
    pub body: Range<usize>,
    /// The terminator line, without its line ending.
    pub terminator: Range<usize>,
    /// Whether the body is expanded (the delimiter was not quoted).
    pub expand: bool,
    /// `<<-`: leading tabs are stripped from the body.
    pub chomp: bool,
}

/// The here-documents of one instruction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Site {
    /// Byte offset of the instruction keyword.
    pub start: usize,
    /// The here-documents, in order.
    pub docs: Vec<Found>,
}

/// Lines of the text: (start, end without line ending, next line start).
fn lines(text: &str) -> Vec<(usize, usize, usize)> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < text.len() {
        let nl = text[pos..].find('\n').map_or(text.len(), |i| pos + i);
        let mut end = nl;
        if end > pos && text.as_bytes()[end - 1] == b'\r' {
            end -= 1;
        }
        out.push((pos, end, (nl + 1).min(text.len())));
        pos = nl + 1;
    }
    out
}

fn is_comment(line: &str) -> bool {
    line.trim_start_matches([' ', '\t']).starts_with('#')
}

/// Words of a logical line as BuildKit's lexer splits them with raw quotes and escapes: quotes and
/// backslashes stay in the word. Returns each word with its range in `line`.
fn raw_words(line: &str) -> Vec<(Range<usize>, &str)> {
    let mut out = Vec::new();
    let mut chars = line.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let mut quote: Option<char> = None;
        let mut end = start;
        while let Some(&(i, c)) = chars.peek() {
            if quote.is_none() && c.is_whitespace() {
                break;
            }
            chars.next();
            end = i + c.len_utf8();
            match (quote, c) {
                (None, '\'' | '"') => quote = Some(c),
                (Some(q), c) if c == q => quote = None,
                (q, '\\') if q != Some('\'') => {
                    if let Some((j, n)) = chars.next() {
                        end = j + n.len_utf8();
                    }
                }
                _ => {}
            }
        }
        out.push((start..end, &line[start..end]));
    }
    out
}

/// `^(\d*)<<(-?)\s*([^<]*)$` with a one-word rest: (chomp, name, expand).
fn marker(word: &str) -> Option<(bool, String, bool)> {
    let rest = word.trim_start_matches(|c: char| c.is_ascii_digit());
    let rest = rest.strip_prefix("<<")?;
    let (chomp, rest) = match rest.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, rest),
    };
    let rest = rest.trim_start();
    if rest.is_empty() || rest.contains('<') {
        return None;
    }
    let quoted = rest.contains(['"', '\'']);
    let mut name = String::new();
    let mut quote = None;
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (q, '\\') if q != Some('\'') => {
                if let Some(n) = chars.next() {
                    name.push(n);
                }
            }
            (None, c) if c.is_whitespace() => return None,
            (_, c) => name.push(c),
        }
    }
    (!name.is_empty()).then_some((chomp, name, !quoted))
}

/// Finds every here-document of `source`, and the text to hand the parser (same length, markers'
/// `<<` and bodies masked).
pub(crate) fn find(
    source: &Source,
    escape: char,
) -> Result<(Vec<Site>, Option<String>), SyntaxError> {
    let text = source.text();
    if !text.contains("<<") {
        return Ok((Vec::new(), None));
    }
    let lines = lines(text);
    let mut sites = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let (start, end, _) = lines[i];
        let line = &text[start..end];
        if line.trim().is_empty() || is_comment(line) {
            i += 1;
            continue;
        }
        // The logical line: continuation lines joined, comment and blank lines inside skipped.
        let mut logical = String::new();
        let mut offsets: Vec<usize> = Vec::new();
        let mut j = i;
        loop {
            let (s, e, _) = lines[j];
            let l = &text[s..e];
            let body = l.trim_end_matches([' ', '\t']);
            let continues = body.ends_with(escape) && j + 1 < lines.len();
            let keep = if continues {
                &body[..body.len() - escape.len_utf8()]
            } else {
                l
            };
            logical.push_str(keep);
            offsets.extend((0..keep.len()).map(|k| s + k));
            if !continues {
                break;
            }
            j += 1;
            while j + 1 < lines.len() {
                let (s, e, _) = lines[j];
                let l = &text[s..e];
                if is_comment(l) || l.trim().is_empty() {
                    j += 1;
                } else {
                    break;
                }
            }
        }
        let mut next = j + 1;
        let words = raw_words(&logical);
        let mut keyword = words.first().map(|w| w.1.to_ascii_lowercase());
        let mut args_at = 1;
        if keyword.as_deref() == Some("onbuild") {
            keyword = words.get(1).map(|w| w.1.to_ascii_lowercase());
            args_at = 2;
        }
        let json = words
            .iter()
            .skip(args_at)
            .find(|w| !w.1.starts_with("--"))
            .is_some_and(|w| w.1.starts_with('['));
        if matches!(keyword.as_deref(), Some("run" | "copy" | "add"))
            && !json
            && logical.contains("<<")
        {
            let mut docs = Vec::new();
            for (range, word) in &words {
                let Some((chomp, name, expand)) = marker(word) else {
                    continue;
                };
                let marker = offsets[range.start]..offsets[range.end - 1] + 1;
                let body_start = lines.get(next).map_or(text.len(), |l| l.0);
                let mut terminated = None;
                while next < lines.len() {
                    let (s, e, _) = lines[next];
                    let mut l = &text[s..e];
                    if chomp {
                        l = l.trim_start_matches('\t');
                    }
                    next += 1;
                    if l == name {
                        terminated = Some(s..e);
                        break;
                    }
                }
                let Some(terminator) = terminated else {
                    return Err(SyntaxError::at(
                        source.position(marker.start),
                        format!(
                            "unterminated here-document {word}: expected a line {name:?} to end it"
                        ),
                    ));
                };
                docs.push(Found {
                    marker,
                    body: body_start..terminator.start,
                    terminator,
                    expand,
                    chomp,
                });
            }
            if !docs.is_empty() {
                let keyword = words.first().map_or(0, |w| w.0.start);
                sites.push(Site {
                    start: offsets.get(keyword).copied().unwrap_or(start),
                    docs,
                });
            }
        }
        i = next;
    }
    if sites.is_empty() {
        return Ok((sites, None));
    }
    let mut masked = text.as_bytes().to_vec();
    for doc in sites.iter().flat_map(|s| &s.docs) {
        let lt = text[doc.marker.clone()].find("<<").unwrap_or(0) + doc.marker.start;
        masked[lt] = b' ';
        masked[lt + 1] = b' ';
        // Body and terminator lines become comments of the same length.
        for (s, e, _) in lines
            .iter()
            .filter(|l| l.0 >= doc.body.start && l.0 <= doc.terminator.start)
        {
            if s < e {
                masked[*s] = b'#';
                // Keep UTF-8 valid: the rest of a replaced multi-byte character becomes spaces.
                let mut k = s + 1;
                while k < *e && !text.is_char_boundary(k) {
                    masked[k] = b' ';
                    k += 1;
                }
            }
        }
    }
    let masked = String::from_utf8(masked).unwrap_or_else(|_| text.to_string());
    Ok((sites, Some(masked)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sites(text: &str) -> Vec<Vec<(String, String, bool)>> {
        let src = Source::new(text).unwrap();
        let (sites, masked) = find(&src, '\\').unwrap();
        if let Some(m) = &masked {
            assert_eq!(m.len(), text.len());
        }
        sites
            .iter()
            .map(|s| {
                s.docs
                    .iter()
                    .map(|d| {
                        (
                            text[d.marker.clone()].to_string(),
                            text[d.body.clone()].to_string(),
                            d.expand,
                        )
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn finds_heredocs_anywhere_in_the_command() {
        assert_eq!(
            sites("FROM a\nRUN python3 <<EOF\nprint(1)\nEOF\n"),
            [[("<<EOF".into(), "print(1)\n".into(), true)]]
        );
        assert_eq!(
            sites("FROM a\nCOPY <<A <<'B' /dst/\na\nA\nb\nB\nRUN x\n"),
            [[
                ("<<A".into(), "a\n".into(), true),
                ("<<'B'".into(), "b\n".into(), false)
            ]]
        );
        assert_eq!(
            sites("FROM a\nRUN <<-EOT\n\techo\n\tEOT\n")[0][0].1,
            "\techo\n"
        );
        assert_eq!(sites("FROM a\nONBUILD RUN <<EOF\nx\nEOF\n").len(), 1);
        // Not here-documents: exec form, here-strings, other instructions, `cmd<<EOF`.
        for text in [
            "FROM a\nRUN [\"cat\", \"<<EOF\"]\n",
            "FROM a\nRUN cat <<<word\n",
            "FROM a\nLABEL a=<<EOF\n",
            "FROM a\nRUN cat<<EOF\n",
            "FROM a\nRUN echo '<<EOF'\n",
        ] {
            assert!(sites(text).is_empty(), "{text:?}");
        }
    }

    #[test]
    fn unterminated() {
        let src = Source::new("FROM a\nRUN <<EOF\nnever\n").unwrap();
        let e = find(&src, '\\').unwrap_err();
        assert_eq!((e.position.line, e.position.column), (2, 5));
        assert!(
            e.message.contains("unterminated here-document <<EOF"),
            "{}",
            e.message
        );
    }
}
