//! `select!`: wait for the first of several futures whose output matches its branch.
//!
//! The expansion evaluates every condition, in source order, into a bit mask of disabled
//! branches (`u8` for up to 8 branches, up to `u128`); then every future expression, in
//! source order, each as the scrutinee of a `match` (so its temporaries live until the end
//! of the statement that holds the `select!`, like a `match`'s). Inside, it pins the futures
//! on the caller's stack and polls the enabled ones from one `move` closure (owning the
//! pinned references, the mask and the random state) until one of them is ready with an
//! output that matches its pattern. A branch whose output does not match is disabled for
//! the rest of this `select!`. The winning output leaves the block that pins the futures,
//! so every future is dropped before the handler runs; the handler's `match` is on a
//! mutable local, so patterns may bind `ref mut`. An `else` with no branch is just the
//! `else` handler.
//!
//! Without `biased;` each poll starts at a random branch (xorshift32, seeded once per
//! `select!`), so a branch that is always ready cannot starve the others. `filch::select!`
//! reaches this expansion through [`expand_with_random`] with the path of a function that
//! draws the seed from the runtime's generator (so `Builder::rng_seed` fixes it); a bare
//! `filch_macros::select!` seeds from `std`'s per-thread `RandomState` keys.
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{Expr, Pat, Token};

struct Branch {
    pat: Pat,
    future: Expr,
    condition: Option<Expr>,
    handler: Expr,
}

struct Select {
    biased: bool,
    branches: Vec<Branch>,
    else_handler: Option<Expr>,
}

impl Parse for Select {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut biased = false;
        let fork = input.fork();
        if let Ok(ident) = fork.parse::<syn::Ident>() {
            if ident == "biased" && fork.peek(Token![;]) {
                input.parse::<syn::Ident>()?;
                input.parse::<Token![;]>()?;
                biased = true;
            }
        }

        let mut branches = Vec::new();
        let mut else_handler = None;
        while !input.is_empty() {
            if input.peek(Token![else]) {
                let else_token: Token![else] = input.parse()?;
                input.parse::<Token![=>]>()?;
                let handler = Expr::parse_with_earlier_boundary_rule(input)?;
                if else_handler.is_some() {
                    return Err(syn::Error::new_spanned(
                        else_token,
                        "`select!` takes at most one `else` branch; remove this one",
                    ));
                }
                else_handler = Some(handler.clone());
                end_of_branch(input, &handler)?;
                continue;
            }
            let pat = Pat::parse_multi_with_leading_vert(input)?;
            if input.peek(Token![=>]) {
                return Err(syn::Error::new(
                    input.span(),
                    "expected `=` after the pattern; a branch is written \
                     `pattern = future => handler,`",
                ));
            }
            input.parse::<Token![=]>().map_err(|e| {
                syn::Error::new(
                    e.span(),
                    "expected `=` after the pattern; a branch is written \
                     `pattern = future => handler,`",
                )
            })?;
            let future: Expr = input.parse()?;
            let condition = if input.peek(Token![,]) && input.peek2(Token![if]) {
                input.parse::<Token![,]>()?;
                input.parse::<Token![if]>()?;
                Some(input.parse::<Expr>()?)
            } else {
                None
            };
            input.parse::<Token![=>]>().map_err(|e| {
                syn::Error::new(
                    e.span(),
                    "expected `=>` after the future; a branch is written \
                     `pattern = future => handler,` or `pattern = future, if condition => handler,`",
                )
            })?;
            let handler = Expr::parse_with_earlier_boundary_rule(input)?;
            end_of_branch(input, &handler)?;
            branches.push(Branch {
                pat,
                future,
                condition,
                handler,
            });
        }
        Ok(Select {
            biased,
            branches,
            else_handler,
        })
    }
}

/// After a handler: a comma, the end of the input, or nothing if the handler is a block.
fn end_of_branch(input: ParseStream<'_>, handler: &Expr) -> syn::Result<()> {
    if input.is_empty() {
        return Ok(());
    }
    if input.peek(Token![,]) {
        input.parse::<Token![,]>()?;
        return Ok(());
    }
    let block_like = matches!(
        handler,
        Expr::Block(_)
            | Expr::If(_)
            | Expr::Match(_)
            | Expr::Loop(_)
            | Expr::While(_)
            | Expr::ForLoop(_)
            | Expr::Unsafe(_)
            | Expr::TryBlock(_)
            | Expr::Const(_)
    );
    if block_like {
        Ok(())
    } else {
        Err(syn::Error::new_spanned(
            handler,
            "expected `,` after this handler (only a `{ block }` handler may omit it)",
        ))
    }
}

/// Strips `mut` and `ref` from bindings, so the pattern can be tried against a reference to
/// the output without moving out of it.
struct CleanPattern;

impl VisitMut for CleanPattern {
    fn visit_pat_ident_mut(&mut self, pat: &mut syn::PatIdent) {
        pat.by_ref = None;
        pat.mutability = None;
        syn::visit_mut::visit_pat_ident_mut(self, pat);
    }
}

/// The smallest unsigned integer with a bit per branch, for the mask of disabled branches.
fn mask_type(n: usize) -> Option<syn::Ident> {
    let bits = [8, 16, 32, 64, 128].into_iter().find(|&bits| n <= bits)?;
    Some(format_ident!("u{}", bits))
}

/// A bit-mask literal, unsuffixed so that it takes the mask's type.
fn mask_literal(bits: u128) -> proc_macro2::Literal {
    proc_macro2::Literal::u128_unsuffixed(bits)
}

pub(crate) fn expand(input: TokenStream) -> TokenStream {
    match syn::parse2(input) {
        Ok(select) => expand_select(select, None),
        Err(error) => error.to_compile_error(),
    }
}

/// `RANDOM_FN; select-input`: as [`expand`], seeding from `RANDOM_FN() -> u32` (the path
/// `filch::select!` passes, `$crate::__private::select_random`).
pub(crate) fn expand_with_random(input: TokenStream) -> TokenStream {
    let parser = |input: ParseStream<'_>| {
        let random: syn::Path = input.parse()?;
        input.parse::<Token![;]>()?;
        Ok((random, input.parse::<Select>()?))
    };
    match syn::parse::Parser::parse2(parser, input) {
        Ok((random, select)) => expand_select(select, Some(random)),
        Err(error) => error.to_compile_error(),
    }
}

fn expand_select(select: Select, random: Option<syn::Path>) -> TokenStream {
    let n = select.branches.len();
    if n == 0 {
        return match &select.else_handler {
            // Every branch is disabled, trivially: the `else` handler runs.
            Some(handler @ Expr::Block(_)) => quote!(#handler),
            Some(handler) => quote!({ #handler }),
            None => syn::Error::new(
                Span::call_site(),
                "`select!` needs at least one branch: `pattern = future => handler,`",
            )
            .to_compile_error(),
        };
    }
    let Some(mask_ty) = mask_type(n) else {
        return syn::Error::new(
            select.branches[128].future.span(),
            "`select!` takes at most 128 branches",
        )
        .to_compile_error();
    };
    let all_disabled = mask_literal(if n == 128 {
        u128::MAX
    } else {
        (1u128 << n) - 1
    });

    let hygienic = |name: String| format_ident!("{}", name, span = Span::mixed_site());
    let fut: Vec<_> = (0..n).map(|i| hygienic(format!("future_{i}"))).collect();
    let variant: Vec<_> = (0..n).map(|i| format_ident!("_{}", i)).collect();
    let generic: Vec<_> = (0..n).map(|i| format_ident!("T{}", i)).collect();
    let disabled = hygienic("disabled".into());
    let cx = hygienic("cx".into());
    let rng = hygienic("rng".into());
    let start = hygienic("start".into());
    let offset = hygienic("offset".into());
    let output = hygienic("output".into());
    // An item name: items are not hygienic, so it is spelt to stay out of the user's way.
    let out_enum = format_ident!("__FilchSelectOutput");

    // Step 1: the conditions, in order, into the mask of disabled branches.
    let conditions = select
        .branches
        .iter()
        .enumerate()
        .filter_map(|(i, branch)| {
            let condition = branch.condition.as_ref()?;
            let bit = mask_literal(1u128 << i);
            Some(quote_spanned! {condition.span()=>
                if !{ let #cx: bool = #condition; #cx } {
                    #disabled |= #bit;
                }
            })
        });
    // Step 2: the future expressions, in order, each the scrutinee of a `match`: the
    // temporaries of an expression (a `String` its future borrows, the temporary future of a
    // `&mut`, the mutex a lock future borrows) live until the end of the statement that
    // holds the `select!`, longer than the future and its output. Each future is moved out
    // of its scrutinee whole, so the frame keeps one copy of it.
    let futures = select.branches.iter().zip(&fut).map(|(branch, f)| {
        let expr = &branch.future;
        let into_future = quote_spanned! {expr.span()=>
            ::core::future::IntoFuture::into_future(#expr)
        };
        (into_future, f)
    });
    let (scrutinees, bindings): (Vec<_>, Vec<_>) = futures.unzip();
    let poll_arms = select.branches.iter().enumerate().map(|(i, branch)| {
        let f = &fut[i];
        let v = &variant[i];
        let bit = mask_literal(1u128 << i);
        // Spanned at the user's expression: a "not a future" error is reported there once.
        let poll =
            quote_spanned!(branch.future.span()=> ::core::future::Future::poll(#f.as_mut(), #cx));
        let mut check = branch.pat.clone();
        CleanPattern.visit_pat_mut(&mut check);
        quote! {
            #i => {
                if #disabled & #bit != 0 {
                    continue;
                }
                if let ::core::task::Poll::Ready(#output) = #poll {
                    #[allow(unused_variables, unreachable_patterns)]
                    match &#output {
                        #check => {}
                        _ => {
                            // The output does not match: this branch is done, try the others.
                            #disabled |= #bit;
                            continue;
                        }
                    }
                    return ::core::task::Poll::Ready(#out_enum::#v(#output));
                }
            }
        }
    });

    let (seed, pick_start) = if select.biased || n == 1 {
        (quote!(), quote!(let #start: usize = 0;))
    } else {
        let seed = match random {
            Some(random) => quote! {
                let mut #rng: u32 = #random() | 1;
            },
            None => quote! {
                let mut #rng: u32 = ::core::hash::BuildHasher::hash_one(
                    &::std::collections::hash_map::RandomState::new(),
                    (),
                ) as u32 | 1;
            },
        };
        // xorshift32, then a multiply-shift into `0..n`.
        let pick = quote! {
            #rng ^= #rng << 13;
            #rng ^= #rng >> 17;
            #rng ^= #rng << 5;
            let #start: usize = ((#rng as u64 * #n as u64) >> 32) as usize;
        };
        (seed, pick)
    };

    let handler_arms = select.branches.iter().enumerate().map(|(i, branch)| {
        let v = &variant[i];
        let pat = &branch.pat;
        let handler = &branch.handler;
        quote!(#out_enum::#v(#pat) => #handler,)
    });
    let else_arm = match &select.else_handler {
        Some(handler) => quote!(#out_enum::Disabled => #handler,),
        None => quote! {
            #out_enum::Disabled => ::core::panic!(
                "all branches of `select!` are disabled and there is no `else` branch"
            ),
        },
    };
    // Never taken (the poll only returns outputs that match), but needed when a pattern is
    // refutable; silenced when every pattern is irrefutable.
    let unreachable_arm = quote! {
        #[allow(unreachable_patterns)]
        _ => ::core::unreachable!("`select!` returned an output that does not match its pattern"),
    };

    let inner = quote! {
        {
            // `mut` for the handlers' `ref mut` bindings.
            #[allow(unused_mut)]
            let mut #output = {
                #( let mut #fut = ::core::pin::pin!(#fut); )*
                #seed
                // The closure owns the pinned references, the mask and the random state.
                ::core::future::poll_fn(move |#cx: &mut ::core::task::Context<'_>| {
                    #pick_start
                    for #offset in 0..#n {
                        let #offset = #start + #offset;
                        match if #offset >= #n { #offset - #n } else { #offset } {
                            #( #poll_arms )*
                            _ => ::core::unreachable!(),
                        }
                    }
                    if #disabled == #all_disabled {
                        ::core::task::Poll::Ready(#out_enum::Disabled)
                    } else {
                        ::core::task::Poll::Pending
                    }
                })
                .await
            };
            // The futures are dropped by now, before any handler runs.
            match #output {
                #( #handler_arms )*
                #else_arm
                #unreachable_arm
            }
        }
    };
    let nested = scrutinees.iter().zip(&bindings).rev().fold(
        inner,
        |inner, (scrutinee, binding)| quote!(match #scrutinee { #binding => #inner }),
    );

    quote! {{
        #[allow(non_camel_case_types, clippy::enum_variant_names)]
        enum #out_enum<#(#generic),*> {
            #( #variant(#generic), )*
            Disabled,
        }
        let mut #disabled: #mask_ty = 0;
        #( #conditions )*
        #nested
    }}
}
