//! `join!` and `try_join!`: wait for several futures at once, on the current task.
//!
//! Each future is pinned on the caller's stack inside an `Option` (`Pin<&mut Option<F>>`), so
//! a finished future is dropped in place (`Pin::set(None)`) the moment it completes and its
//! output is kept aside; no `unsafe` and no allocation. One `poll_fn` polls every unfinished
//! future each time the task is woken, starting from a different branch on each poll (round
//! robin) so that no branch can starve the ones after it.
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, Token};

/// Expands `join!` (`is_try == false`) or `try_join!`.
pub(crate) fn expand(input: TokenStream, is_try: bool) -> TokenStream {
    let futures = match Punctuated::<Expr, Token![,]>::parse_terminated.parse2(input) {
        Ok(futures) => futures,
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

    // Each expression is evaluated once, in order, before the first poll.
    let setup = futures.iter().zip(&fut).zip(&out).map(|((expr, f), o)| {
        let into_future = quote_spanned! {expr.span()=>
            ::core::future::IntoFuture::into_future(#expr)
        };
        quote! {
            let mut #f = ::core::pin::pin!(::core::option::Option::Some(#into_future));
            let mut #o = ::core::option::Option::None;
        }
    });

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

    quote! {{
        #( #setup )*
        let mut #next_start: usize = 0;
        ::core::future::poll_fn(|#cx: &mut ::core::task::Context<'_>| {
            let #start = #next_start;
            #next_start = if #start + 1 == #n { 0 } else { #start + 1 };
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
        .await
    }}
}
