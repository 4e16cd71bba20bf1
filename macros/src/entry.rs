//! `#[filch::main]` and `#[filch::test]`: parse the options, check the function, expand.
//!
//! The expansion keeps the user's `async fn` whole, nested inside a plain `fn` of the same name
//! that builds a runtime and blocks on it:
//!
//! ```text
//! #[attrs] vis fn name() -> Ret {
//!     async fn name() -> Ret { body }
//!     [let __filch_seed = <crate>::__private::TestSeed::resolve(seed);]   // tests
//!     let mut __filch_builder = <crate>::runtime::Builder::new_<flavor>();
//!     [__filch_builder.worker_threads(n).start_paused(b);]
//!     [__filch_seed.apply(&mut __filch_builder);]   // #[filch::main]: .rng_seed(n)
//!     __filch_builder.build().expect("...").block_on(name())
//! }
//! ```
//!
//! Nesting the function (instead of wrapping the body in an `async` block) keeps the declared
//! return type in charge of inference, so `?` in the body and type errors in it are reported
//! against the user's own signature and tokens.
//!
//! On an error the user's item is emitted again next to the `compile_error!`, so that
//! rust-analyzer still sees the function: with the default options when only an option is
//! wrong (the body is still type-checked), unchanged when the function itself cannot be
//! expanded.
use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, ItemFn, Lit, Meta, Path, Token};

/// Which attribute is being expanded: they differ in defaults and wording.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Main,
    Test,
}

impl Kind {
    fn attr(self) -> &'static str {
        match self {
            Kind::Main => "#[filch::main]",
            Kind::Test => "#[filch::test]",
        }
    }

    fn default_flavor(self) -> Flavor {
        match self {
            Kind::Main => Flavor::MultiThread,
            Kind::Test => Flavor::CurrentThread,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Flavor {
    CurrentThread,
    MultiThread,
}

/// The options of one attribute, validated.
struct Options {
    flavor: Flavor,
    /// The count, and the `worker_threads = n` tokens for errors and spans.
    worker_threads: Option<(usize, TokenStream)>,
    /// `start_paused = b`, and its tokens for errors and spans.
    start_paused: Option<(bool, TokenStream)>,
    /// `seed = n`, and its tokens for spans.
    seed: Option<(u64, TokenStream)>,
    crate_path: Path,
}

impl Options {
    fn defaults(kind: Kind) -> Self {
        Options {
            flavor: kind.default_flavor(),
            worker_threads: None,
            start_paused: None,
            seed: None,
            crate_path: syn::parse_quote!(::filch),
        }
    }
}

/// Collects every error instead of stopping at the first, so one build shows them all.
#[derive(Default)]
struct Errors(Option<syn::Error>);

impl Errors {
    fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }

    fn push_spanned(&mut self, tokens: impl ToTokens, message: impl std::fmt::Display) {
        self.push(syn::Error::new_spanned(tokens, message));
    }
}

const OPTIONS: &str = "`flavor`, `worker_threads`, `start_paused`, `seed`, `crate`";

fn parse_options(kind: Kind, args: TokenStream, errors: &mut Errors) -> Options {
    let mut options = Options::defaults(kind);
    let metas = match Punctuated::<Meta, Token![,]>::parse_terminated.parse2(args) {
        Ok(metas) => metas,
        Err(error) => {
            errors.push(syn::Error::new(
                error.span(),
                format!(
                    "{error}; options are written `name = value`, separated by commas, e.g. \
                     `{}(flavor = \"multi_thread\", worker_threads = 2)`",
                    kind.attr().trim_end_matches(']')
                ),
            ));
            return options;
        }
    };

    let mut flavor: Option<Flavor> = None;
    let mut seen: Vec<String> = Vec::new();
    for meta in metas {
        let name = meta
            .path()
            .get_ident()
            .map(ToString::to_string)
            .unwrap_or_else(|| meta.path().to_token_stream().to_string());
        let name_value = match &meta {
            Meta::NameValue(nv) => nv,
            _ if !is_known(&name) => {
                errors.push_spanned(meta.path(), unknown_option(&name));
                continue;
            }
            _ => {
                errors.push_spanned(&meta, format!("`{name}` needs a value: {}", example(&name)));
                continue;
            }
        };
        if seen.contains(&name) {
            errors.push_spanned(
                &meta,
                format!("`{name}` is set more than once; keep only one `{name} = ...`"),
            );
            continue;
        }
        match name.as_str() {
            "flavor" => match parse_flavor(&name_value.value) {
                Ok(f) => flavor = Some(f),
                Err(error) => errors.push(error),
            },
            "worker_threads" => match parse_worker_threads(&name_value.value) {
                Ok(n) => options.worker_threads = Some((n, name_value.to_token_stream())),
                Err(error) => errors.push(error),
            },
            "start_paused" => match parse_start_paused(&name_value.value) {
                Ok(b) => options.start_paused = Some((b, name_value.to_token_stream())),
                Err(error) => errors.push(error),
            },
            "seed" => match parse_seed(&name_value.value) {
                Ok(n) => options.seed = Some((n, name_value.to_token_stream())),
                Err(error) => errors.push(error),
            },
            "crate" => match parse_crate_path(&name_value.value) {
                Ok(path) => options.crate_path = path,
                Err(error) => errors.push(error),
            },
            _ => {
                errors.push_spanned(meta.path(), unknown_option(&name));
                continue;
            }
        }
        seen.push(name);
    }

    if let Some(f) = flavor {
        options.flavor = f;
    }
    if let Some((_, tokens)) = &options.worker_threads {
        match flavor {
            Some(Flavor::CurrentThread) => errors.push_spanned(
                tokens,
                "`worker_threads` does not apply to the current-thread runtime, which has no \
                 worker threads; remove it, or write `flavor = \"multi_thread\"`",
            ),
            None if kind == Kind::Test => errors.push_spanned(
                tokens,
                "`#[filch::test]` runs on the current-thread runtime unless told otherwise; \
                 write `flavor = \"multi_thread\", worker_threads = ...` to use worker threads",
            ),
            _ => {}
        }
    }
    if let Some((true, tokens)) = &options.start_paused {
        if options.flavor == Flavor::MultiThread {
            let fix = match kind {
                Kind::Main => "write `flavor = \"current_thread\"`",
                Kind::Test => "remove `flavor = \"multi_thread\"`",
            };
            errors.push_spanned(
                tokens,
                format!(
                    "`start_paused` needs the current-thread runtime (a multi-thread runtime \
                     cannot pause time); {fix}"
                ),
            );
        }
    }
    options
}

fn is_known(name: &str) -> bool {
    matches!(
        name,
        "flavor" | "worker_threads" | "start_paused" | "seed" | "crate"
    )
}

fn unknown_option(name: &str) -> String {
    let hint = if name.contains("thread") {
        " (did you mean `worker_threads`?)".to_owned()
    } else if name == "runtime" || name == "kind" {
        " (did you mean `flavor`?)".to_owned()
    } else if name.contains("paus") || name.contains("time") {
        " (did you mean `start_paused`?)".to_owned()
    } else if name.contains("seed") || name.contains("rng") || name.contains("rand") {
        " (did you mean `seed`?)".to_owned()
    } else {
        String::new()
    };
    format!("unknown option `{name}`{hint}; the options are {OPTIONS}")
}

fn example(name: &str) -> &'static str {
    match name {
        "flavor" => "write `flavor = \"current_thread\"` or `flavor = \"multi_thread\"`",
        "worker_threads" => "write e.g. `worker_threads = 4`",
        "start_paused" => "write `start_paused = true` or `start_paused = false`",
        "seed" => "write e.g. `seed = 7`",
        _ => "write e.g. `crate = my_reexport::filch`",
    }
}

fn parse_flavor(value: &Expr) -> syn::Result<Flavor> {
    let text = match value {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => s.value(),
        Expr::Path(p) if p.path.get_ident().is_some() => {
            let ident = p
                .path
                .get_ident()
                .map(ToString::to_string)
                .unwrap_or_default();
            return Err(syn::Error::new_spanned(
                value,
                format!("the flavor is a string: write `flavor = \"{ident}\"`"),
            ));
        }
        _ => return Err(syn::Error::new_spanned(value, example("flavor"))),
    };
    match text.as_str() {
        "current_thread" => Ok(Flavor::CurrentThread),
        "multi_thread" => Ok(Flavor::MultiThread),
        other => Err(syn::Error::new_spanned(
            value,
            format!("unknown runtime flavor `{other}`; {}", example("flavor")),
        )),
    }
}

fn parse_worker_threads(value: &Expr) -> syn::Result<usize> {
    let int = match value {
        Expr::Lit(ExprLit {
            lit: Lit::Int(i), ..
        }) => i,
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => {
            return Err(syn::Error::new_spanned(
                value,
                format!(
                    "`worker_threads` takes an integer literal, not a string: write \
                     `worker_threads = {}`",
                    s.value()
                ),
            ))
        }
        _ => {
            return Err(syn::Error::new_spanned(
                value,
                "`worker_threads` takes an integer literal, e.g. `worker_threads = 4`; for a \
                 count known only at run time, build the runtime with \
                 `filch::runtime::Builder` instead",
            ))
        }
    };
    match int.base10_parse::<usize>() {
        Ok(0) => Err(syn::Error::new_spanned(
            value,
            "`worker_threads` must be at least 1; for a runtime without worker threads write \
             `flavor = \"current_thread\"`",
        )),
        Ok(n) => Ok(n),
        Err(error) => Err(syn::Error::new_spanned(
            value,
            format!("`worker_threads` must be a positive integer: {error}"),
        )),
    }
}

fn parse_start_paused(value: &Expr) -> syn::Result<bool> {
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Bool(b), ..
        }) => Ok(b.value),
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) if s.value() == "true" || s.value() == "false" => Err(syn::Error::new_spanned(
            value,
            format!(
                "`start_paused` takes a boolean, not a string: write `start_paused = {}`",
                s.value()
            ),
        )),
        _ => Err(syn::Error::new_spanned(
            value,
            format!(
                "`start_paused` takes a boolean literal; {}",
                example("start_paused")
            ),
        )),
    }
}

fn parse_seed(value: &Expr) -> syn::Result<u64> {
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Int(i), ..
        }) => i.base10_parse::<u64>().map_err(|error| {
            syn::Error::new_spanned(value, format!("`seed` must fit in a `u64`: {error}"))
        }),
        _ => Err(syn::Error::new_spanned(
            value,
            "`seed` takes an integer literal, e.g. `seed = 7`; to try another seed without \
             editing the test, set the environment variable `FILCH_SEED`",
        )),
    }
}

fn parse_crate_path(value: &Expr) -> syn::Result<Path> {
    match value {
        Expr::Path(p) if p.qself.is_none() => Ok(p.path.clone()),
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => s.parse::<Path>().map_err(|_| {
            syn::Error::new_spanned(
                value,
                "`crate` takes a path, e.g. `crate = my_reexport::filch`",
            )
        }),
        _ => Err(syn::Error::new_spanned(
            value,
            "`crate` takes a path, e.g. `crate = my_reexport::filch`",
        )),
    }
}

/// Checks the shape of the function; errors here leave the item unexpandable.
fn check_fn(kind: Kind, item: &ItemFn, errors: &mut Errors) {
    let sig = &item.sig;
    let name = &sig.ident;
    if sig.asyncness.is_none() {
        let fn_token = sig.fn_token;
        errors.push_spanned(
            quote!(#fn_token #name),
            format!(
                "{} goes on an `async fn`; write `async fn {name}(...)`",
                kind.attr()
            ),
        );
    }
    if !sig.inputs.is_empty() {
        let message = match kind {
            Kind::Main => format!(
                "`{name}` cannot take arguments under #[filch::main]; read the command line \
                 with `std::env::args()` instead"
            ),
            Kind::Test => "test functions cannot take arguments; build the values inside the \
                           test instead"
                .to_owned(),
        };
        errors.push_spanned(&sig.inputs, message);
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        errors.push_spanned(
            &sig.generics,
            format!(
                "{} cannot expand a generic function; remove the generics",
                kind.attr()
            ),
        );
    }
    if let Some(variadic) = &sig.variadic {
        errors.push_spanned(
            variadic,
            format!("{} cannot take variadic arguments", kind.attr()),
        );
    }
    if kind == Kind::Test {
        for attr in &item.attrs {
            if attr.path().is_ident("test") {
                errors.push_spanned(
                    attr,
                    "#[filch::test] already adds `#[test]`; remove this attribute",
                );
            }
        }
    }
}

/// Expands `#[filch::main]` or `#[filch::test]`.
pub(crate) fn expand(kind: Kind, args: TokenStream, item: TokenStream) -> TokenStream {
    let item_fn: ItemFn = match syn::parse2(item.clone()) {
        Ok(item_fn) => item_fn,
        Err(error) => {
            let message = format!("{} goes on an `async fn`: {error}", kind.attr());
            let error = syn::Error::new(error.span(), message).to_compile_error();
            return quote!(#item #error);
        }
    };

    let mut shape_errors = Errors::default();
    check_fn(kind, &item_fn, &mut shape_errors);
    let mut option_errors = Errors::default();
    let options = parse_options(kind, args, &mut option_errors);

    if let Some(error) = shape_errors.0 {
        let mut all = error;
        if let Some(more) = option_errors.0 {
            all.combine(more);
        }
        let error = all.to_compile_error();
        if kind == Kind::Main && item_fn.sig.ident == "main" && item_fn.sig.asyncness.is_some() {
            // An `async fn main` at the crate root is an error of its own (E0752) that would
            // only repeat ours; nest the item so its body is still checked.
            return quote! {
                fn main() {
                    #[allow(dead_code)]
                    #item
                }
                #error
            };
        }
        return quote!(#item #error);
    }
    match option_errors.0 {
        None => expand_fn(kind, &options, item_fn),
        Some(error) => {
            let fallback = expand_fn(kind, &Options::defaults(kind), item_fn);
            let error = error.to_compile_error();
            quote!(#fallback #error)
        }
    }
}

fn expand_fn(kind: Kind, options: &Options, item: ItemFn) -> TokenStream {
    let ItemFn {
        attrs,
        vis,
        sig,
        block,
    } = item;
    let name = &sig.ident;
    let output = &sig.output;
    let crate_path = &options.crate_path;

    // The runtime is built at the attribute; a failure to build it is reported there.
    let attr_span = Span::call_site();
    let builder = match options.flavor {
        Flavor::CurrentThread => {
            quote_spanned!(attr_span=> #crate_path::runtime::Builder::new_current_thread())
        }
        Flavor::MultiThread => {
            quote_spanned!(attr_span=> #crate_path::runtime::Builder::new_multi_thread())
        }
    };
    let worker_threads = options
        .worker_threads
        .as_ref()
        .map(|(n, tokens)| quote_spanned!(tokens.span()=> .worker_threads(#n)));
    let start_paused = options
        .start_paused
        .as_ref()
        .map(|(b, tokens)| quote_spanned!(tokens.span()=> .start_paused(#b)));

    let test_attr = match kind {
        Kind::Test => quote!(#[::core::prelude::v1::test]),
        Kind::Main => quote!(),
    };
    // A test's seed: `FILCH_SEED` wins over `seed = n`; the guard prints it if the test
    // panics. `#[filch::main]` just passes `seed = n` on.
    let seed_tokens = options.seed.as_ref().map(|(_, tokens)| tokens.span());
    let (resolve_seed, apply_seed) = match (kind, &options.seed) {
        (Kind::Test, seed) => {
            let literal = match seed {
                Some((n, _)) => quote!(::core::option::Option::Some(#n)),
                None => quote!(::core::option::Option::None),
            };
            let span = seed_tokens.unwrap_or(attr_span);
            (
                quote_spanned!(span=>
                    let __filch_seed = #crate_path::__private::TestSeed::resolve(#literal);
                ),
                quote_spanned!(span=> __filch_seed.apply(&mut __filch_builder);),
            )
        }
        (Kind::Main, Some((n, tokens))) => (
            quote!(),
            quote_spanned!(tokens.span()=> __filch_builder.rng_seed(#n);),
        ),
        (Kind::Main, None) => (quote!(), quote!()),
    };

    // The outer function takes the user's signature minus `async` (the checks above ensure
    // there is nothing else to strip), with the spans of the user's tokens.
    let mut outer_sig = sig.clone();
    outer_sig.asyncness = None;

    // The inner `async fn` keeps the user's signature and body, tokens and spans unchanged.
    let inner = quote_spanned! {block.span()=>
        #[allow(clippy::unused_async)]
        #sig #block
    };
    let configure = (worker_threads.is_some() || start_paused.is_some())
        .then(|| quote!(__filch_builder #worker_threads #start_paused;));
    let expect_message = format!("{}: failed to build the filch runtime", kind.attr());
    let call = quote_spanned!(output.span()=> #name());
    quote! {
        #test_attr
        #(#attrs)*
        #vis #outer_sig {
            #inner
            #resolve_seed
            let mut __filch_builder = #builder;
            #configure
            #apply_seed
            __filch_builder
                .build()
                .expect(#expect_message)
                .block_on(#call)
        }
    }
}
