#[filch::main]
async fn main() -> Result<(), String> {
    let n: u32 = "7".parse().map_err(|_| "bad".to_owned())?;
    if n > 3 {
        return Ok(n);
    }
    Ok(())
}

#[filch::main]
async fn no_result() {
    let _n: u32 = "7".parse()?;
}
