//! The stream's records in its checkpoint: the metadata it checks on
//! open, and the binary codecs of its commits (a delta: what one trigger
//! changed; a snapshot: the whole state, whose chunks are kept as opaque
//! bytes and decoded when first read) and of its plans.

use super::*;

impl FileStamp {
    pub(super) fn write(&self, w: &mut Writer) {
        w.bytes(&self.rel);
        w.u64(self.size);
        w.u128(self.mtime_ns);
    }

    pub(super) fn read(r: &mut Reader) -> Result<Self> {
        Ok(Self {
            rel: r.bytes()?.to_vec(),
            size: r.u64()?,
            mtime_ns: r.u128()?,
        })
    }
}

impl Stream {
    pub(super) fn write_common(&self, w: &mut Writer, n: u64) {
        w.u64(n);
        let t = &self.read;
        for v in [
            t.files,
            t.lines,
            t.rejected,
            t.late,
            t.skipped,
            self.logs.0,
            self.logs.1,
        ] {
            w.u64(v);
        }
        let range = self.counts.time_range();
        w.opt_i64(range.map(|r| r.0));
        w.opt_i64(range.map(|r| r.1));
        w.opt_i64(self.watermark);
    }

    /// Takes the figures `c` read; returns the time range it holds.
    pub(super) fn set_common(&mut self, c: Common) -> Option<(i64, i64)> {
        self.trigger = c.trigger;
        self.read = c.read;
        self.logs = c.logs;
        self.watermark = c.watermark;
        c.range
    }

    /// The delta of trigger `n`: its files and the rows it changed.
    pub(super) fn encode_delta(
        &self,
        n: u64,
        stamps: &[FileStamp],
        missing: &[Vec<u8>],
        changed: &[(Arc<str>, i64, u64)],
    ) -> Vec<u8> {
        let mut w = Writer::new();
        self.write_common(&mut w, n);
        let mut names: Vec<&Arc<str>> = changed.iter().map(|r| &r.0).collect();
        names.sort_unstable();
        names.dedup();
        let rows: Vec<Row> = changed
            .iter()
            .map(|(a, m, c)| (*m, names.binary_search(&a).unwrap_or(0) as u32, *c))
            .collect();
        write_files(&mut w, stamps.iter(), missing);
        write_names(&mut w, &names);
        w.u64(rows.len() as u64);
        write_rows(&mut w, &rows);
        w.finish()
    }

    /// Applies a delta as its trigger did: the rows it changed, and the
    /// figures of their hours.
    pub(super) fn apply_delta(&mut self, bytes: &[u8]) -> Result<()> {
        let mut r = Reader::new(bytes)?;
        let common = Common::read(&mut r)?;
        let range = self.set_common(common);
        let (stamps, missing) = read_files(&mut r)?;
        self.processed.extend(stamps.into_iter().map(|s| (s.rel.clone(), s)));
        self.missing.extend(missing);
        let names = read_names(&mut r)?;
        let n = r.count()?;
        let rows: Vec<(Arc<str>, i64, u64)> = read_rows(&mut r, n, names.len())?
            .into_iter()
            .map(|(m, id, c)| (names[id as usize].clone(), m, c))
            .collect();
        // counts only grow: the difference to the new count is what was added
        let mut delta = Vec::with_capacity(rows.len());
        for (a, m, new) in &rows {
            let old = self.counts.count(a, *m);
            self.kept.sums.change(old, *new);
            *self.kept.totals.entry(a.clone()).or_default() += *new as i64 - old as i64;
            delta.push((a.clone(), *m, new - old));
        }
        self.counts.add_counts(&delta);
        self.counts.set_time_range(range);
        self.kept.refresh(&self.counts, &self.opts.figures, &hours_of(&rows))?;
        self.since_snapshot.0 += 1;
        self.since_snapshot.1 += rows.len() as u64;
        Ok(())
    }

    /// The whole state after trigger `self.trigger`: the files, the
    /// action names, the totals and sums, the rows chunk by chunk (a chunk
    /// unchanged since it was loaded is copied as it was saved), and the
    /// figures kept per hour.
    pub(super) fn encode_snapshot(&self) -> Vec<u8> {
        let mut w = Writer::new();
        self.write_common(&mut w, self.trigger);
        let mut stamps: Vec<&FileStamp> = self.processed.values().collect();
        stamps.sort_unstable_by(|a, b| a.rel.cmp(&b.rel));
        write_files(&mut w, stamps.into_iter(), &self.missing);
        let names: Vec<&Arc<str>> = self.counts.actions().iter().collect();
        write_names(&mut w, &names);
        let ids: HashMap<&str, u64> = names.iter().enumerate().map(|(i, a)| (&***a, i as u64)).collect();
        for a in &names {
            w.i64(self.kept.totals.get(*a).copied().unwrap_or(0));
        }
        w.u64(self.kept.sums.n);
        w.u128(self.kept.sums.s);
        w.u128(self.kept.sums.ss);
        let chunks: Vec<SavedChunk> = self.counts.saved_chunks().collect();
        w.u64(chunks.len() as u64);
        for chunk in &chunks {
            let (first, len, bytes) = match chunk {
                SavedChunk::Stored { first, len, bytes } => (*first, *len, std::borrow::Cow::Borrowed(*bytes)),
                SavedChunk::Rows(rows) => {
                    let mut part = Writer::bare();
                    write_rows(&mut part, rows);
                    (
                        (rows[0].0, rows[0].1),
                        rows.len(),
                        std::borrow::Cow::Owned(part.into_bytes()),
                    )
                }
            };
            w.u64(len as u64);
            w.i64(first.0.div_euclid(MINUTE));
            w.u64(u64::from(first.1));
            w.bytes(&bytes);
        }
        w.u64(self.kept.hourly.len() as u64);
        for ((h, a), c) in &self.kept.hourly {
            w.i64(*h);
            w.u64(ids.get(&**a).copied().unwrap_or(0));
            w.i64(*c);
        }
        w.u64(self.kept.averages.len() as u64);
        for (h, avg) in &self.kept.averages {
            w.i64(*h);
            w.f64(*avg);
        }
        w.u64(self.kept.alerts.len() as u64);
        for a in self.kept.alerts.values() {
            w.i64(a.window_start);
            w.i64(a.open);
            w.i64(a.close);
        }
        w.finish()
    }

    /// Loads snapshot `n`. Its rows stay in the file's bytes until a chunk
    /// of them is first needed: a run reads the rows it touches.
    pub(super) fn read_snapshot(&mut self, n: u64) -> Result<()> {
        let bytes = self.checkpoint.map(Kind::Snapshot, n)?;
        let file: &[u8] = (*bytes).as_ref();
        // the checksum is summed on another thread while the snapshot is
        // decoded; nothing decoded is taken before it matches
        let (verified, read) = std::thread::scope(|s| {
            let verified = std::thread::Builder::new().spawn_scoped(s, || Reader::verify(file));
            let read = Reader::unverified(file).and_then(|mut r| decode_snapshot(&mut r, &bytes));
            let verified = match verified {
                Ok(summing) => summing
                    .join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("its checksum could not be summed"))),
                // no thread to spare: summed here
                Err(_) => Reader::verify(file),
            };
            (verified, read)
        });
        verified?;
        let s = read?;
        let range = self.set_common(s.common);
        let events = s
            .totals
            .iter()
            .try_fold(0u64, |sum, &t| sum.checked_add(u64::try_from(t).ok()?));
        let events = events.context("its totals are impossible")?;
        self.counts = MinuteCounts::from_stored(s.names.clone(), s.chunks, events, range)
            .context("its chunks are out of order or name no action")?;
        self.kept.totals = s.names.into_iter().zip(s.totals).collect();
        self.kept.sums = s.sums;
        self.processed = s.processed;
        self.missing = s.missing;
        self.kept.hourly = s.hourly;
        self.kept.averages = s.averages;
        self.kept.alerts = s.alerts;
        self.since_snapshot = (0, 0);
        Ok(())
    }
}

/// The metadata a checkpoint keeps (its `metadata.json`), refused with
/// the sentence that says what to do when another version wrote it.
pub(super) fn read_metadata(dir: &Path, saved: &str) -> Result<Metadata> {
    let value: serde_json::Value = serde_json::from_str(saved).unwrap_or_default();
    if value.get("format").and_then(|f| f.as_u64()) != Some(crate::codec::FORMAT) {
        bail!(
            "the checkpoint {} was written by another version of windowpane, in a format this one does not read; \
             delete that folder (or give another --checkpoint; `windowpane update --rebuild` deletes it for you) \
             and every file is read again",
            dir.display()
        );
    }
    serde_json::from_value(value).with_context(|| format!("{} is damaged", dir.join("metadata.json").display()))
}

/// The figures every checkpoint record starts with.
pub(super) struct Common {
    trigger: u64,
    read: Tally,
    logs: (u64, u64),
    range: Option<(i64, i64)>,
    watermark: Option<i64>,
}

impl Common {
    fn read(r: &mut Reader) -> Result<Common> {
        Ok(Common {
            trigger: r.u64()?,
            read: Tally {
                files: r.u64()?,
                lines: r.u64()?,
                rejected: r.u64()?,
                late: r.u64()?,
                skipped: r.u64()?,
            },
            logs: (r.u64()?, r.u64()?),
            range: r.opt_i64()?.zip(r.opt_i64()?),
            watermark: r.opt_i64()?,
        })
    }
}

/// A snapshot as read, before the stream takes it.
pub(super) struct Snapshot {
    common: Common,
    processed: HashMap<Vec<u8>, FileStamp>,
    missing: Vec<Vec<u8>>,
    names: Vec<Arc<str>>,
    totals: Vec<i64>,
    sums: Sums,
    chunks: Vec<Stored>,
    hourly: BTreeMap<(i64, Arc<str>), i64>,
    averages: BTreeMap<i64, f64>,
    alerts: BTreeMap<i64, Alert>,
}

/// Reads the snapshot `bytes` (mapped) with `r`.
pub(super) fn decode_snapshot(r: &mut Reader, bytes: &crate::state::Bytes) -> Result<Snapshot> {
    let common = Common::read(r)?;
    let (stamps, missing) = read_files(r)?;
    let processed: HashMap<Vec<u8>, FileStamp> = stamps.into_iter().map(|s| (s.rel.clone(), s)).collect();
    let names = read_names(r)?;
    let totals: Vec<i64> = (0..names.len()).map(|_| r.i64()).collect::<Result<_>>()?;
    let sums = Sums {
        n: r.u64()?,
        s: r.u128()?,
        ss: r.u128()?,
    };
    let mut chunks = Vec::new();
    for _ in 0..r.count()? {
        let len = r.u64()? as usize;
        let minute = r
            .i64()?
            .checked_mul(MINUTE)
            .context("a chunk starts at an impossible time")?;
        let id = u32::try_from(r.u64()?).context("a chunk names no action")?;
        chunks.push(Stored {
            bytes: bytes.clone(),
            range: r.bytes_at()?,
            len,
            first: (minute, id),
            decode: decode_chunk,
        });
    }
    // saved in key order: collected, the maps are built in bulk
    let hourly: BTreeMap<(i64, Arc<str>), i64> = (0..r.count()?)
        .map(|_| {
            let h = r.i64()?;
            let a = names.get(r.u64()? as usize).context("an hour names no action")?;
            Ok(((h, a.clone()), r.i64()?))
        })
        .collect::<Result<_>>()?;
    let averages: BTreeMap<i64, f64> = (0..r.count()?)
        .map(|_| Ok((r.i64()?, r.f64()?)))
        .collect::<Result<_>>()?;
    let mut alerts = BTreeMap::new();
    for _ in 0..r.count()? {
        // read before the checksum is known: damaged numbers are errors
        let (m, open, close) = (r.i64()?, r.i64()?, r.i64()?);
        alerts.insert(
            m,
            Alert::of(m, open, close).context("an alert at an impossible time or of impossible counts")?,
        );
    }
    Ok(Snapshot {
        common,
        processed,
        missing,
        names,
        totals,
        sums,
        chunks,
        hourly,
        averages,
        alerts,
    })
}

/// Compares a checkpoint's saved metadata with this run's: a difference
/// that the state depends on is an error naming the option; `Ok(true)`
/// when only the alert options changed, which the stream takes by
/// computing the alerts again.
pub(super) fn check_metadata(dir: &Path, saved: &str, now: &Metadata) -> Result<bool> {
    let saved = read_metadata(dir, saved)?;
    let refuse = |what: String| -> Result<bool> {
        bail!(
            "the checkpoint {} was made {what}; rerun with the same, or give this run another --checkpoint \
             (or delete that folder to start over)",
            dir.display()
        )
    };
    match (&saved.spark, &now.spark) {
        (Some(url), None) => return refuse(format!("with --spark {url} (the cluster read its input)")),
        (None, Some(_)) => return refuse("without --spark (this machine read its input)".into()),
        _ => {}
    }
    if saved.input != now.input {
        return refuse(format!("for the input {}, not {}", saved.input, now.input));
    }
    if saved.time_field != now.time_field {
        return refuse(format!("with --time-field {}", saved.time_field));
    }
    if saved.action_field != now.action_field {
        return refuse(format!("with --action-field {}", saved.action_field));
    }
    if saved.mode != now.mode {
        return refuse(format!("with --output-mode {:?}", saved.mode).to_lowercase());
    }
    if saved.order != now.order {
        return refuse(format!("with --order {}", saved.order));
    }
    if saved.time_unit != now.time_unit {
        return refuse(format!("with --time-unit {}", saved.time_unit));
    }
    if saved.watermark_minutes != now.watermark_minutes {
        return refuse(format!("with --watermark {}m", saved.watermark_minutes.unwrap_or(0)));
    }
    Ok(saved.alert_threshold != now.alert_threshold || saved.alert_actions != now.alert_actions)
}

/// Writes the files read and the files gone missing (deltas and
/// snapshots both begin with them).
pub(super) fn write_files<'a>(
    w: &mut Writer,
    stamps: impl ExactSizeIterator<Item = &'a FileStamp>,
    missing: &[Vec<u8>],
) {
    w.u64(stamps.len() as u64);
    stamps.for_each(|s| s.write(w));
    w.u64(missing.len() as u64);
    missing.iter().for_each(|m| w.bytes(m));
}

/// Reads what [`write_files`] wrote.
pub(super) fn read_files(r: &mut Reader) -> Result<(Vec<FileStamp>, Vec<Vec<u8>>)> {
    let stamps = (0..r.count()?).map(|_| FileStamp::read(r)).collect::<Result<_>>()?;
    let missing = (0..r.count()?)
        .map(|_| Ok(r.bytes()?.to_vec()))
        .collect::<Result<_>>()?;
    Ok((stamps, missing))
}

pub(super) fn write_names(w: &mut Writer, names: &[&Arc<str>]) {
    w.u64(names.len() as u64);
    names.iter().for_each(|a| w.bytes(a.as_bytes()));
}

/// Writes rows sorted by (minute, id); minutes as differences, so most
/// take a byte.
pub(super) fn write_rows(w: &mut Writer, rows: &[Row]) {
    let mut previous = 0i64;
    for &(m, id, c) in rows {
        w.i64(m.div_euclid(MINUTE) - previous);
        previous = m.div_euclid(MINUTE);
        w.u64(u64::from(id));
        w.u64(c);
    }
}

/// Reads `n` rows that [`write_rows`] wrote; every id must index one of
/// `actions` names.
pub(super) fn read_rows(r: &mut Reader, n: usize, actions: usize) -> Result<Vec<Row>> {
    let mut rows = Vec::with_capacity(n);
    let mut minute = 0i64;
    for _ in 0..n {
        minute = minute.checked_add(r.i64()?).context("a row's minute is impossible")?;
        let id = r.u64()?;
        if id >= actions as u64 {
            bail!("a row names no action");
        }
        let start = minute.checked_mul(MINUTE).context("a row's minute is impossible")?;
        rows.push((start, id as u32, r.u64()?));
    }
    Ok(rows)
}

/// Reads a snapshot's chunk of `len` rows: the rows [`write_rows`] wrote
/// into its bytes. (Its ids are checked against the actions by the state.)
pub(super) fn decode_chunk(bytes: &[u8], len: usize) -> Result<Vec<Row>> {
    let mut r = Reader::bare(bytes);
    let rows = read_rows(&mut r, len, u32::MAX as usize)?;
    if !r.is_done() {
        bail!("a chunk holds more than its rows");
    }
    Ok(rows)
}

pub(super) fn read_names(r: &mut Reader) -> Result<Vec<Arc<str>>> {
    (0..r.count()?)
        .map(|_| {
            let b = r.bytes()?;
            Ok(Arc::from(
                std::str::from_utf8(b).context("an action name is not UTF-8")?,
            ))
        })
        .collect()
}

pub(super) fn encode_plan(rels: &[Vec<u8>]) -> Vec<u8> {
    let mut w = Writer::new();
    w.u64(rels.len() as u64);
    rels.iter().for_each(|r| w.bytes(r));
    w.finish()
}

pub(super) fn decode_plan(bytes: &[u8]) -> Result<Vec<Vec<u8>>> {
    let mut r = Reader::new(bytes)?;
    (0..r.count()?).map(|_| Ok(r.bytes()?.to_vec())).collect()
}
