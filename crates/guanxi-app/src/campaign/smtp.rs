//! The SMTP client the sender uses: lettre's connection (EHLO, STARTTLS or implicit TLS with
//! rustls, AUTH, the mail transaction), held open and reused, one per delivery in flight.
//!
//! Why not lettre's pooled transport: it writes a message's body and its terminating
//! `CRLF.CRLF` as two writes on a socket without `TCP_NODELAY`, so Nagle's algorithm holds the
//! terminator until the server acknowledges the body — and the server delays that
//! acknowledgement (it waits for the terminator): about 40 ms of nothing per message, plus a
//! NOOP round trip per checkout. Measured against the local aiosmtpd: 115 messages/s over 8
//! connections, where smtplib reaches 588. Here the plain and STARTTLS sockets are opened by us
//! with `TCP_NODELAY`, and a pooled connection is simply used (a stale one fails at MAIL FROM
//! and the message goes once more over a fresh connection).

use std::time::Duration;

use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::extension::{ClientId, Extension};
use lettre::Message;
use tokio::sync::Mutex;

/// How the connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Security {
    /// Plain text (`smtp://` without `tls`): a local relay only.
    Plain,
    /// STARTTLS if offered (`?tls=opportunistic`).
    Opportunistic,
    /// STARTTLS or fail (`?tls=required`).
    Required,
    /// TLS from the first byte (`smtps://`).
    Implicit,
}

/// Why a message could not be handed over.
#[derive(Debug)]
pub enum SendError {
    /// The server answered with an error (4xx/5xx), or the SMTP session failed.
    Smtp(lettre::transport::smtp::Error),
    /// The connection could not be made.
    Connect(String),
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SendError::Smtp(e) => write!(f, "{e}"),
            SendError::Connect(e) => write!(f, "connect: {e}"),
        }
    }
}

/// An SMTP relay and the open connections to it.
pub struct Mailer {
    host: String,
    port: u16,
    security: Security,
    credentials: Option<Credentials>,
    hello: ClientId,
    timeout: Duration,
    idle: Mutex<Vec<AsyncSmtpConnection>>,
    max_idle: usize,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the credentials.
        f.debug_struct("Mailer")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .finish()
    }
}

impl Mailer {
    /// From lettre's URL form: `smtp://user:pass@host:port?tls=required`, `smtps://…`
    /// (default ports 587 and 465), keeping up to `max_idle` connections open.
    pub fn from_url(u: &str, max_idle: usize) -> Result<Mailer, String> {
        let url = url::Url::parse(u).map_err(|e| format!("smtp_url: {e}"))?;
        let tls = url
            .query_pairs()
            .find(|(k, _)| k == "tls")
            .map(|(_, v)| v.to_string());
        let security = match (url.scheme(), tls.as_deref()) {
            ("smtps", _) => Security::Implicit,
            ("smtp", Some("required")) => Security::Required,
            ("smtp", Some("opportunistic")) => Security::Opportunistic,
            ("smtp", None) => Security::Plain,
            (s, t) => return Err(format!("smtp_url: unsupported scheme {s} or tls={t:?}")),
        };
        let host = url
            .host_str()
            .ok_or("smtp_url: no host")?
            .trim_matches(['[', ']'])
            .to_string();
        let port = url.port().unwrap_or(match security {
            Security::Implicit => 465,
            _ => 587,
        });
        let decode = |s: &str| {
            percent_decode(s)
                .map_err(|_| "smtp_url: the user or password is not valid UTF-8".to_string())
        };
        let credentials = if url.username().is_empty() {
            None
        } else {
            Some(Credentials::new(
                decode(url.username())?,
                decode(url.password().unwrap_or(""))?,
            ))
        };
        let path = url.path().trim_start_matches('/');
        let hello = if path.is_empty() {
            ClientId::default()
        } else {
            ClientId::Domain(path.to_string())
        };
        Ok(Mailer {
            host,
            port,
            security,
            credentials,
            hello,
            timeout: Duration::from_secs(30),
            idle: Mutex::new(Vec::new()),
            max_idle: max_idle.max(1),
        })
    }

    fn tls(&self) -> Result<TlsParameters, SendError> {
        TlsParameters::new(self.host.clone()).map_err(SendError::Smtp)
    }

    async fn connect(&self) -> Result<AsyncSmtpConnection, SendError> {
        let mut c = match self.security {
            Security::Implicit => AsyncSmtpConnection::connect_tokio1(
                (self.host.as_str(), self.port),
                Some(self.timeout),
                &self.hello,
                Some(self.tls()?),
                None,
            )
            .await
            .map_err(SendError::Smtp)?,
            _ => {
                let tcp = tokio::time::timeout(
                    self.timeout,
                    tokio::net::TcpStream::connect((self.host.as_str(), self.port)),
                )
                .await
                .map_err(|_| SendError::Connect("timed out".into()))?
                .map_err(|e| SendError::Connect(e.to_string()))?;
                tcp.set_nodelay(true)
                    .map_err(|e| SendError::Connect(e.to_string()))?;
                let mut c = AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &self.hello)
                    .await
                    .map_err(SendError::Smtp)?;
                let offered = c.server_info().supports_feature(Extension::StartTls);
                if self.security == Security::Required
                    || (self.security == Security::Opportunistic && offered)
                {
                    c.starttls(self.tls()?, &self.hello)
                        .await
                        .map_err(SendError::Smtp)?;
                }
                c
            }
        };
        if let Some(cr) = &self.credentials {
            c.auth(&[Mechanism::Plain, Mechanism::Login], cr)
                .await
                .map_err(SendError::Smtp)?;
        }
        Ok(c)
    }

    /// Hands one message to the relay; `Ok` once it answered 250 to the message's end.
    pub async fn send(&self, m: &Message) -> Result<(), SendError> {
        let body = m.formatted();
        let pooled = self.idle.lock().await.pop();
        let reused = pooled.is_some();
        let mut conn = match pooled {
            Some(c) => c,
            None => self.connect().await?,
        };
        match conn.send(m.envelope(), &body).await {
            Ok(_) => {
                self.put(conn).await;
                Ok(())
            }
            // A connection the server closed while it sat idle: once more on a fresh one.
            Err(e) if reused && !e.is_permanent() && !e.is_transient() => {
                let mut fresh = self.connect().await?;
                fresh
                    .send(m.envelope(), &body)
                    .await
                    .map_err(SendError::Smtp)?;
                self.put(fresh).await;
                Ok(())
            }
            Err(e) => Err(SendError::Smtp(e)),
        }
    }

    async fn put(&self, c: AsyncSmtpConnection) {
        let mut idle = self.idle.lock().await;
        if idle.len() < self.max_idle {
            idle.push(c);
        }
    }
}

/// Percent-decoding of a URL's user or password.
fn percent_decode(s: &str) -> Result<String, std::string::FromUtf8Error> {
    let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 3 <= b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push(h * 16 + l);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_read_like_lettres() {
        let m = Mailer::from_url("smtps://me%40shop.cn:p%2Fw@smtp.example.com", 4).unwrap();
        assert_eq!(
            (m.host.as_str(), m.port, m.security),
            ("smtp.example.com", 465, Security::Implicit)
        );
        let m = Mailer::from_url("smtp://relay:2525?tls=required", 4).unwrap();
        assert_eq!((m.port, m.security), (2525, Security::Required));
        assert_eq!(
            Mailer::from_url("smtp://127.0.0.1:25", 4).unwrap().security,
            Security::Plain
        );
        assert!(Mailer::from_url("http://x", 4).is_err());
        assert_eq!(percent_decode("me%40shop.cn").unwrap(), "me@shop.cn");
        assert_eq!(percent_decode("a%2").unwrap(), "a%2");
    }
}
