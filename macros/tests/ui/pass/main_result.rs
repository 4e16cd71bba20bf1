use std::error::Error;

#[filch::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let n: u32 = "7".parse()?;
    let doubled = filch::spawn(async move { n * 2 }).await?;
    if doubled != 14 {
        return Err("wrong".into());
    }
    Ok(())
}
