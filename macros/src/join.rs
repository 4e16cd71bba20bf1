//! `join!` and `try_join!`: wait for several futures at once, on the current task.
//!
//! Each argument is evaluated, in order, as the scrutinee of a `match` (so its temporaries
//! live as long as its future), then pinned on the caller's stack inside an `Option`
//! (`Pin<&mut Option<F>>`), so a finished future is dropped in place (`Pin::set(None)`) the
//! moment it completes and its output is kept aside; no `unsafe` and no allocation. One
//! `move` closure under `poll_fn`, owning the pinned references, the output slots and a
//! `u8` rotation counter, polls every unfinished future each time the task is woken,
//! starting from a different branch on each poll (round robin) so that no branch can
//! starve the ones after it; with a leading `biased;` it starts at the first every time.
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, Token};

/// `biased;` (optional), then the futures, separated by commas.
struct Join {
    biased: bool,
    futures: Punctuated<Expr, Token![,]>,
}

impl Parse for Join {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let fork = input.fork();
        let biased = matches!(fork.parse::<syn::Ident>(), Ok(ident) if ident == "biased")
            && fork.peek(Token![;]);
        if biased {
            input.parse::<syn::Ident>()?;
            input.parse::<Token![;]>()?;
        }
        let futures = Punctuated::parse_terminated(input)?;
        Ok(Join { biased, futures })
    }
}

/// Expands `join!` (`is_try == false`) or `try_join!`.
pub(crate) fn expand(input: TokenStream, is_try: bool) -> TokenStream {
    let Join { biased, futures } = match syn::parse2(input) {
        Ok(join) => join,
        Err(error) => {
            let name = if is_try { "try_join!" } else { "join!" };
            let message =
                format!("{error}; `{name}` takes futures separated by commas, e.g. `{name}(a, b)`");
            return syn::Error::new(error.span(), message).to_compile_error();
        }
    };
    let n = futures.len();
    if n == 0 {
        return if is_try {
            quote!(::core::result::Result::Ok(()))
        } else {
            quote!(())
        };
    }

    // Names the user's tokens cannot see (`mixed_site` is macro_rules-style hygiene).
    let hygienic = |name: String| format_ident!("{}", name, span = Span::mixed_site());
    let fut: Vec<_> = (0..n).map(|i| hygienic(format!("future_{i}"))).collect();
    let out: Vec<_> = (0..n).map(|i| hygienic(format!("output_{i}"))).collect();
    let cx = hygienic("cx".into());
    let start = hygienic("start".into());
    let next_start = hygienic("next_start".into());
    let pending = hygienic("pending".into());
    let offset = hygienic("offset".into());
    let value = hygienic("value".into());
    let error = hygienic("error".into());
    let fut_ref = hygienic("future".into());
    let joined = hygienic("joined".into());

    // Each expression is evaluated once, in order, before the first poll, as the scrutinee
    // of a `match`: its temporaries live until the end of the statement that holds the
    // `join!`, as long as its future.
    let scrutinees: Vec<_> = futures
        .iter()
        .map(|expr| {
            quote_spanned! {expr.span()=>
                ::core::future::IntoFuture::into_future(#expr)
            }
        })
        .collect();

    let arms = fut.iter().zip(&out).enumerate().map(|(i, (f, o))| {
        let store = if is_try {
            let span = futures[i].span();
            // Hygienic like `value`, but located at the future so a type error is reported
            // at the user's tokens.
            let value_here = format_ident!("value", span = Span::mixed_site().located_at(span));
            // The conversion states the type expected, so a future whose output is not a
            // `Result` gets "expected `Result`, found ..." at its own tokens.
            quote_spanned! {span=>
                let #value_here = #value;
                match ::core::convert::identity::<::core::result::Result<_, _>>(#value_here) {
                    ::core::result::Result::Ok(#value) => #o = ::core::option::Option::Some(#value),
                    ::core::result::Result::Err(#error) => {
                        return ::core::task::Poll::Ready(::core::result::Result::Err(#error));
                    }
                }
            }
        } else {
            quote!(#o = ::core::option::Option::Some(#value);)
        };
        // Spanned at the user's expression: a "not a future" error is reported there once.
        let poll = quote_spanned!(futures[i].span()=> ::core::future::Future::poll(#fut_ref, #cx));
        quote! {
            #i => {
                if let ::core::option::Option::Some(#fut_ref) = #f.as_mut().as_pin_mut() {
                    match #poll {
                        ::core::task::Poll::Ready(#value) => {
                            // Drop the finished future now, not when the join ends.
                            #f.set(::core::option::Option::None);
                            #store
                        }
                        ::core::task::Poll::Pending => #pending = true,
                    }
                }
            }
        }
    });

    let outputs = quote! {
        ( #( match #out.take() {
            ::core::option::Option::Some(#value) => #value,
            ::core::option::Option::None => ::core::unreachable!(),
        }, )* )
    };
    let done = if is_try {
        quote!(::core::task::Poll::Ready(::core::result::Result::Ok(#outputs)))
    } else {
        quote!(::core::task::Poll::Ready(#outputs))
    };

    // With `biased;`, every poll starts at the first future; without, each poll starts one
    // further than the last (a `u8` is enough for up to 256 futures).
    let counter_ty = if n <= 256 { quote!(u8) } else { quote!(usize) };
    let (counter, pick_start) = if biased || n == 1 {
        (quote!(), quote!(let #start: usize = 0;))
    } else {
        let last = proc_macro2::Literal::usize_unsuffixed(n - 1);
        (
            quote!(let mut #next_start: #counter_ty = 0;),
            quote! {
                let #start = #next_start as usize;
                #next_start = if #start == #last { 0 } else { #next_start + 1 };
            },
        )
    };

    let inner = quote! {{
        #( let mut #fut = ::core::pin::pin!(::core::option::Option::Some(#fut)); )*
        #( let mut #out = ::core::option::Option::None; )*
        #counter
        // The closure owns the pinned references, the outputs and the rotation counter.
        let #joined = ::core::future::poll_fn(move |#cx: &mut ::core::task::Context<'_>| {
            #pick_start
            let mut #pending = false;
            for #offset in 0..#n {
                let #offset = #start + #offset;
                match if #offset >= #n { #offset - #n } else { #offset } {
                    #( #arms )*
                    _ => ::core::unreachable!(),
                }
            }
            if #pending {
                ::core::task::Poll::Pending
            } else {
                #done
            }
        })
        .await;
        #joined
    }};
    scrutinees.iter().zip(&fut).rev().fold(
        inner,
        |inner, (scrutinee, binding)| quote!(match #scrutinee { #binding => #inner }),
    )
}
